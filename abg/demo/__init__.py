"""Demo partner processes for local runs; they stand in for real partners and say so."""
