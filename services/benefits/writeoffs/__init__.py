"""Write-off (核销): a partner redeems a code presented at its store."""
