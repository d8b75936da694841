"""Staff passwords: argon2id hashes (RFC 9106 parameters) and the password policy."""

from functools import lru_cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 256
MIN_DISTINCT = 5
CLASSES = (str.islower, str.isupper, str.isdigit)

# argon2id, 64 MiB, 3 passes, 4 lanes: RFC 9106's recommendation for memory-constrained hosts.
HASHER = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)


def hash_password(password: str) -> str:
    """An argon2id hash of `password` with a fresh random salt."""
    return HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches `password_hash` (False for a malformed hash too)."""
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than the current ones."""
    try:
        return HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash no password matches, to spend the same time on unknown usernames."""
    return hash_password("unknown user: no account has this password")


def character_classes(password: str) -> int:
    """How many of lowercase, uppercase, digits and other characters `password` uses."""
    used = {index for char in password for index, test in enumerate(CLASSES) if test(char)}
    other = any(not any(test(char) for test in CLASSES) for char in password)
    return len(used) + other


def check_password_policy(password: str, username: str) -> None:
    """Raise ValueError saying what is wrong unless `password` is acceptable for `username`."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise ValueError(f"the password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise ValueError(f"the password must have at most {MAX_LENGTH} characters")
    if password != password.strip():
        raise ValueError("the password must not start or end with a space")
    lowered, name = password.lower(), username.strip().lower()
    if name and name in lowered:
        raise ValueError("the password must not contain the username")
    if character_classes(password) < 2:
        raise ValueError(
            "the password must mix at least two of: lowercase, uppercase, digits, other characters"
        )
    if len(set(lowered)) < MIN_DISTINCT:
        raise ValueError(f"the password must use at least {MIN_DISTINCT} different characters")
