"""Voucher and activation codes that we generate: random, easy to read aloud, and self-checking.

A code is read off a screen or a printed voucher and typed at a till, so three things matter:

- **Unguessable.** Every character but the last comes from `secrets` (the OS's CSPRNG), uniformly
  over the alphabet. The default, 12 characters over 22 symbols, carries 11 · log2(22) ≈ 49 bits.
- **No look-alikes.** The default alphabet leaves out 0/O, 1/I/L, 2/Z, 5/S, 8/B, U/V (the pairs
  people misread), and also Q (an O with a tail): `34679ACDEFGHJKMNPRTWXY`.
- **Typos caught before a lookup.** The last character is a check character, so a write-off that
  was mistyped fails as "mistyped" rather than "unknown code", and a guesser cannot probe the
  pool with arbitrary strings.

The check character: Luhn mod N was the first candidate, but it misses one transposition for every
N (the first and last symbols of the alphabet, like 09 ↔ 90 in plain Luhn), so it cannot promise
that *every* adjacent swap is caught. We use Verhoeff's group method instead (as in Verhoeff's
decimal scheme and its generalisation to any base by Gumm): over a group G of order N with a
permutation σ such that x·σ(y) ≠ y·σ(x) whenever x ≠ y, the code s is valid when
σ⁰(s_last) · σ¹(s_last-1) · … = identity. Any single substitution changes the product (a group
cancels), and any adjacent swap does by the property of σ. The group depends only on N:

- N odd: the integers mod N, σ(x) = 2x;
- N a multiple of 4 (N = 2^k · m, m odd): GF(2^k) × (integers mod m), σ = (multiply by the field's
  generator x, double);
- N = 2 mod 4 (N = 2m, m odd): the dihedral group of order 2m, σ(rᵏ) = r⁻ᵏ, σ(rᵏf) = rᵏ⁺¹f.

The tests check the group axioms and the σ property exhaustively for every allowed N.

Bounds: a code is 6 to 64 characters long, check character included. Six (five random symbols
from at least ten) is the least that still makes a blind guess unlikely against a rate-limited
write-off; 64 is the longest code a partner may upload, so every code fits the same column. An
alphabet has 10 to 64 distinct visible ASCII characters, none of them a hyphen (the display
separator).
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from functools import cache

from shared.errors import InvalidInput

__all__ = [
    "DEFAULT_ALPHABET",
    "DEFAULT_FORMAT",
    "DEFAULT_LENGTH",
    "CodeFormat",
    "format_for_display",
    "generate",
    "is_valid",
    "normalise",
]

DEFAULT_ALPHABET = "34679ACDEFGHJKMNPRTWXY"
DEFAULT_LENGTH = 12
MIN_LENGTH, MAX_LENGTH = 6, 64
MIN_ALPHABET, MAX_ALPHABET = 10, 64

# Characters people mistake for one another. When an alphabet holds exactly one member of a group,
# typing any other member means that one; when it holds none or several, nothing is guessed.
_CONFUSIONS = ("0O", "1IL", "2Z", "5S", "8B", "UV")
_VISIBLE = frozenset(string.ascii_letters + string.digits + string.punctuation) - {"-"}
# Irreducible polynomials for GF(2^k), k = 2..6 (alphabets up to 64 symbols).
_FIELD_POLY = {2: 0b111, 3: 0b1011, 4: 0b10011, 5: 0b100101, 6: 0b1000011}


@dataclass(frozen=True, slots=True)
class _Group:
    """A group on 0..n-1 (0 the identity) with an anti-symmetric permutation σ, as lookup tables."""

    n: int
    mul: tuple[int, ...]  # mul[x * n + y] = x · y
    inverse: tuple[int, ...]
    sigma_powers: tuple[tuple[int, ...], ...]  # sigma_powers[p][x] = σᵖ(x), p = 0..MAX_LENGTH-1


def _group_tables(n: int) -> tuple[list[int], list[int]]:
    """Multiplication table and σ for the group of order n described in the module docstring."""
    if n % 2:
        mul = [(x + y) % n for x in range(n) for y in range(n)]
        sigma = [2 * x % n for x in range(n)]
    elif n % 4 == 0:
        k = (n & -n).bit_length() - 1
        m = n >> k

        def times_x(u: int) -> int:
            u <<= 1
            return u ^ _FIELD_POLY[k] if u >> k else u

        # element u * m + v is the pair (u in GF(2^k), v mod m)
        mul = [((x // m) ^ (y // m)) * m + (x % m + y % m) % m for x in range(n) for y in range(n)]
        sigma = [times_x(x // m) * m + 2 * (x % m) % m for x in range(n)]
    else:
        m = n // 2

        # element s * m + a is r^a f^s (r a rotation, f a reflection)
        def product(x: int, y: int) -> int:
            (s, a), (t, b) = divmod(x, m), divmod(y, m)
            return (a + (-b if s else b)) % m + m * (s ^ t)

        mul = [product(x, y) for x in range(n) for y in range(n)]
        sigma = [(x - m + 1) % m + m if x >= m else -x % m for x in range(n)]
    return mul, sigma


@cache
def _group(n: int) -> _Group:
    mul, sigma = _group_tables(n)
    inverse = [0] * n
    for x in range(n):
        inverse[x] = mul[x * n : x * n + n].index(0)
    powers = [list(range(n))]
    for _ in range(MAX_LENGTH - 1):
        powers.append([sigma[x] for x in powers[-1]])
    return _Group(n, tuple(mul), tuple(inverse), tuple(tuple(p) for p in powers))


@dataclass(frozen=True, slots=True)
class CodeFormat:
    """An alphabet and a length (check character included); checked when made."""

    alphabet: str = DEFAULT_ALPHABET
    length: int = DEFAULT_LENGTH
    _index: dict[str, int] = field(init=False, repr=False, compare=False)
    _confusions: dict[int, str] = field(init=False, repr=False, compare=False)
    _case_blind: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        alphabet, length = self.alphabet, self.length
        if not isinstance(length, int) or isinstance(length, bool) or not MIN_LENGTH <= length <= MAX_LENGTH:
            raise InvalidInput(
                f"a code must be {MIN_LENGTH} to {MAX_LENGTH} characters long (check character included), "
                f"not {length!r}",
                field="length",
            )
        if not isinstance(alphabet, str) or len(set(alphabet)) != len(alphabet):
            raise InvalidInput("an alphabet must be a string of distinct characters", field="alphabet")
        if not MIN_ALPHABET <= len(alphabet) <= MAX_ALPHABET:
            raise InvalidInput(
                f"an alphabet must have {MIN_ALPHABET} to {MAX_ALPHABET} characters, not {len(alphabet)}",
                field="alphabet",
            )
        if bad := sorted(set(alphabet) - _VISIBLE):
            raise InvalidInput(
                f"an alphabet may only hold visible ASCII characters other than '-', not {bad!r}",
                field="alphabet",
            )
        # Upper-casing input is only safe when the alphabet has no lower-case letters of its own.
        case_blind = not any(c.islower() for c in alphabet)
        confusions: dict[int, str] = {}
        for group in _CONFUSIONS:
            present = [c for c in group if c in alphabet]
            if len(present) == 1:
                confusions.update({ord(c): present[0] for c in group if c != present[0]})
        object.__setattr__(self, "_index", {c: i for i, c in enumerate(alphabet)})
        object.__setattr__(self, "_confusions", confusions)
        object.__setattr__(self, "_case_blind", case_blind)
        _group(len(alphabet))  # build the tables now, not on the first write-off

    def generate(self) -> str:
        """A new random code of `length` characters, the last one the check character."""
        body = "".join(secrets.choice(self.alphabet) for _ in range(self.length - 1))
        return body + self.check_character(body)

    def check_character(self, body: str) -> str:
        """The character that makes `body + it` valid (`body` is in this alphabet)."""
        group = _group(len(self.alphabet))
        n, mul, powers = group.n, group.mul, group.sigma_powers
        product = 0
        # positions count from the right; the check character will sit at position 0
        for position, char in enumerate(reversed(body), start=1):
            product = mul[product * n + powers[position][self._index[char]]]
        return self.alphabet[group.inverse[product]]

    def normalise(self, code: str) -> str:
        """What the person meant: spaces and hyphens gone, upper-cased when the alphabet has no
        lower case, and look-alikes the alphabet leaves out mapped to the one it holds."""
        text = "".join(code.split()).replace("-", "")
        if self._case_blind:
            text = text.upper()
        return text.translate(self._confusions)

    def is_valid(self, code: str) -> bool:
        """Whether `code`, once normalised, has this length, this alphabet and a right check."""
        text = self.normalise(code)
        if len(text) != self.length:
            return False
        group = _group(len(self.alphabet))
        n, mul, powers, index = group.n, group.mul, group.sigma_powers, self._index
        product = 0
        for position, char in enumerate(reversed(text)):
            value = index.get(char)
            if value is None:
                return False
            product = mul[product * n + powers[position][value]]
        return product == 0

    def format_for_display(self, code: str, group: int = 4) -> str:
        """The normalised code in hyphen-separated groups of `group` characters (`ABCD-EFGH-JKMN`)."""
        if not isinstance(group, int) or group < 1:
            raise InvalidInput(f"a display group must be at least one character, not {group!r}", field="group")
        text = self.normalise(code)
        return "-".join(text[i : i + group] for i in range(0, len(text), group))


DEFAULT_FORMAT = CodeFormat()


def generate(fmt: CodeFormat = DEFAULT_FORMAT) -> str:
    return fmt.generate()


def normalise(code: str, fmt: CodeFormat = DEFAULT_FORMAT) -> str:
    return fmt.normalise(code)


def is_valid(code: str, fmt: CodeFormat = DEFAULT_FORMAT) -> bool:
    return fmt.is_valid(code)


def format_for_display(code: str, group: int = 4, fmt: CodeFormat = DEFAULT_FORMAT) -> str:
    return fmt.format_for_display(code, group)
