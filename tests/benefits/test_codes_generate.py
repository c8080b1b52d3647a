from collections import Counter

import pytest

from services.benefits.codes import generate as codes
from services.benefits.codes.generate import (
    DEFAULT_ALPHABET,
    DEFAULT_FORMAT,
    CodeFormat,
    format_for_display,
    generate,
    is_valid,
    normalise,
)
from shared.errors import InvalidInput

# Alphabets that reach each of the three group constructions, both ends of the size range.
ALPHABETS = {
    "default (22: dihedral)": DEFAULT_ALPHABET,
    "digits (10: dihedral)": "0123456789",
    "hex (16: GF(16))": "0123456789ABCDEF",
    "12: GF(4) x Z3": "ACDEFGHJKMNP",
    "23: Z23": "34679ACDEFGHJKMNPQRTWXY",
    "64: GF(64)": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+_",
}


def test_the_default_alphabet_has_no_look_alikes() -> None:
    assert len(DEFAULT_ALPHABET) == 22 and len(set(DEFAULT_ALPHABET)) == 22
    assert not set(DEFAULT_ALPHABET) & set("0O1IL2Z5S8BUVQ")
    code = generate()
    assert len(code) == 12 and set(code) <= set(DEFAULT_ALPHABET) and is_valid(code)


@pytest.mark.parametrize("n", range(codes.MIN_ALPHABET, codes.MAX_ALPHABET + 1))
def test_every_alphabet_size_has_a_group_with_an_anti_symmetric_sigma(n: int) -> None:
    # What the detection guarantees rest on, checked exhaustively rather than sampled.
    group = codes._group(n)
    mul, sigma = group.mul, group.sigma_powers[1]
    rows = [mul[x * n : x * n + n] for x in range(n)]
    for x in range(n):
        assert sorted(rows[x]) == list(range(n))  # a Latin square: cancellation, so substitutions show
        assert sorted(rows[y][x] for y in range(n)) == list(range(n))
        assert rows[0][x] == x == rows[x][0]
        assert rows[x][group.inverse[x]] == 0
    for x in range(n):
        for y in range(n):
            for z in range(n):
                assert rows[rows[x][y]][z] == rows[x][rows[y][z]]
    assert sorted(sigma) == list(range(n))
    for x in range(n):
        for y in range(x + 1, n):
            assert rows[x][sigma[y]] != rows[y][sigma[x]]  # so adjacent swaps show


@pytest.mark.parametrize("alphabet", ALPHABETS.values(), ids=ALPHABETS.keys())
def test_every_substitution_and_adjacent_transposition_is_detected(alphabet: str) -> None:
    fmt = CodeFormat(alphabet, 14)
    for _ in range(60):
        code = fmt.generate()
        assert fmt.is_valid(code)
        for i, original in enumerate(code):
            for other in alphabet:
                if other != original:
                    assert not fmt.is_valid(code[:i] + other + code[i + 1 :]), (code, i, other)
        for i in range(len(code) - 1):
            if code[i] != code[i + 1]:
                swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
                assert not fmt.is_valid(swapped), (code, i)


def test_the_transposition_luhn_mod_n_misses_is_caught() -> None:
    # Luhn mod N cannot see the first and last symbols swapped; this scheme must.
    fmt = CodeFormat("0123456789", 8)
    for body in ("0912345", "9012345", "1234509", "5550955"):
        code = body + fmt.check_character(body)
        assert fmt.is_valid(code)
        i = code.index("09") if "09" in code else code.index("90")
        assert not fmt.is_valid(code[:i] + code[i + 1] + code[i] + code[i + 2 :])


def test_characters_are_drawn_uniformly() -> None:
    draws = 20_000
    counts = Counter("".join(generate()[:-1] for _ in range(draws)))
    total = draws * (DEFAULT_FORMAT.length - 1)
    expected = total / len(DEFAULT_ALPHABET)
    chi_square = sum((counts[c] - expected) ** 2 / expected for c in DEFAULT_ALPHABET)
    # 21 degrees of freedom: mean 21, and above 90 has a probability far below one in a billion.
    assert set(counts) == set(DEFAULT_ALPHABET)
    assert chi_square < 90, chi_square
    # and no two of the 20,000 codes are the same (49 bits each)
    assert len({generate() for _ in range(draws)}) == draws


def test_normalising_undoes_display_formatting_and_casing() -> None:
    for _ in range(200):
        code = generate()
        shown = format_for_display(code)
        assert shown.count("-") == 2 and all(len(part) == 4 for part in shown.split("-"))
        assert normalise(shown) == code
        assert normalise(f"  {shown.lower()} ") == code
        assert normalise(" ".join(shown.split("-"))) == code
        assert is_valid(shown.lower())
    assert format_for_display("ACDEFGHJK", group=3) == "ACD-EFG-HJK"
    assert format_for_display("ACDEFGHJKM") == "ACDE-FGHJ-KM"


def test_look_alikes_are_mapped_only_to_the_one_the_alphabet_holds() -> None:
    digits = CodeFormat("0123456789", 8)
    assert digits.normalise("o1l2-z5s8b") == "011225588"
    code = digits.generate()
    typed = code.replace("0", "O").replace("1", "l").replace("8", "B")
    assert digits.is_valid(typed)
    # the default alphabet has neither 0 nor O: nothing is guessed, the code is just not valid
    assert normalise("0o1i") == "0O1I"
    assert not is_valid("0" + generate()[1:])
    # an alphabet with lower-case letters is case-sensitive
    mixed = CodeFormat(ALPHABETS["64: GF(64)"], 10)
    assert mixed.normalise("aB-c d") == "aBcd"


def test_bounds_are_refused_with_clear_errors() -> None:
    with pytest.raises(InvalidInput, match="6 to 64 characters long") as short:
        CodeFormat(length=5)
    assert short.value.extensions == {"field": "length"}
    with pytest.raises(InvalidInput, match="6 to 64 characters long"):
        CodeFormat(length=65)
    with pytest.raises(InvalidInput, match="6 to 64 characters long"):
        CodeFormat(length=True)
    with pytest.raises(InvalidInput, match="10 to 64 characters, not 9") as small:
        CodeFormat(alphabet="ACDEFGHJK")
    assert small.value.extensions == {"field": "alphabet"}
    with pytest.raises(InvalidInput, match="10 to 64 characters, not 65"):
        CodeFormat(alphabet=ALPHABETS["64: GF(64)"] + "!")
    with pytest.raises(InvalidInput, match="distinct"):
        CodeFormat(alphabet="AACDEFGHJKM")
    with pytest.raises(InvalidInput, match="visible ASCII"):
        CodeFormat(alphabet="ACDEFGHJK-M")
    with pytest.raises(InvalidInput, match="visible ASCII"):
        CodeFormat(alphabet="ACDEFGHJK M")
    with pytest.raises(InvalidInput, match="visible ASCII"):
        CodeFormat(alphabet="ACDEFGHJKMÄ")
    with pytest.raises(InvalidInput, match="at least one character"):
        format_for_display(generate(), group=0)
    # both ends of both ranges are accepted
    for fmt in (CodeFormat("0123456789", 6), CodeFormat(ALPHABETS["64: GF(64)"], 64)):
        assert fmt.is_valid(fmt.generate())


def test_codes_of_another_length_or_alphabet_are_not_valid() -> None:
    code = generate()
    assert not is_valid(code[:-1]) and not is_valid(code + code[-1]) and not is_valid("")
    assert not is_valid(code[:-1] + "!")
