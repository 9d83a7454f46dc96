"""One spelling of an email: `normalize_email`, and the schemas that apply it.

email-validator (behind pydantic's EmailStr) applies only NFC to the part before the
@ and keeps its letter case; these tests pin what the app adds on top.
"""

import sys
import unicodedata

import pytest
from pydantic import EmailStr, TypeAdapter, ValidationError

from app.domain.models.user import normalize_email
from app.domain.schemas.user import UserCreate, UserRegister

FULL_WIDTH_ADA = "\uff21\uff24\uff21@example.com"  # "ADA" in full-width letters


def register(email: object) -> UserRegister:
    return UserRegister.model_validate(
        {"email": email, "password": "long-enough-1", "full_name": "Ada"}
    )


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        (FULL_WIDTH_ADA, "ada@example.com"),
        ("Ada@Example.COM", "ada@example.com"),
        ("  ada@example.com\t", "ada@example.com"),
        ("\ufb01n@example.com", "fin@example.com"),  # the "fi" ligature
        ("\u24d0da@example.com", "ada@example.com"),  # a circled "a"
        ("Stra\u00dfe@example.com", "stra\u00dfe@example.com"),  # lower(), not casefold()
    ],
)
def test_normalize_email_applies_nfkc_then_lower_case(spelling: str, expected: str) -> None:
    assert normalize_email(spelling) == expected


def test_normalize_email_is_idempotent_for_every_code_point() -> None:
    for point in range(sys.maxunicode + 1):
        if 0xD800 <= point <= 0xDFFF:
            continue  # surrogates are no characters
        once = normalize_email(chr(point))
        assert normalize_email(once) == once, hex(point)


def test_emailstr_alone_keeps_full_width_letters() -> None:
    # Why the app normalises on top of EmailStr: email-validator keeps the local part
    # as it came (NFC only), and str.lower() lower-cases full-width letters into
    # full-width lower-case letters, still a different address.
    plain = TypeAdapter(EmailStr).validate_python(FULL_WIDTH_ADA)
    assert plain == FULL_WIDTH_ADA
    assert plain.lower() != "ada@example.com"
    assert unicodedata.normalize("NFKC", plain).lower() == "ada@example.com"


@pytest.mark.parametrize("schema", [UserRegister, UserCreate])
def test_registration_and_admin_creation_store_the_normalised_email(
    schema: type[UserRegister],
) -> None:
    data = schema.model_validate(
        {"email": FULL_WIDTH_ADA, "password": "long-enough-1", "full_name": "Ada"}
    )
    assert data.email == "ada@example.com"


def test_the_address_is_validated_after_normalising() -> None:
    # A full-width at sign is a valid character before the @ for email-validator, but
    # NFKC makes it a second "@": validating the normalised form refuses it.
    with pytest.raises(ValidationError):
        register("a\uff20b@example.com")


def test_a_punycode_domain_is_stored_as_email_validator_spells_it() -> None:
    assert register("Ada@XN--BCHER-KVA.example").email == "ada@b\u00fccher.example"


@pytest.mark.parametrize("value", [123, None, ["ada@example.com"]])
def test_an_email_that_is_not_text_is_a_validation_error(value: object) -> None:
    with pytest.raises(ValidationError):
        register(value)
