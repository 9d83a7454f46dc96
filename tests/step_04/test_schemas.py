"""Step 4, D10: the Pydantic schemas in app/domain/schemas/{base,user,common}.py.

Only what COURSE-SPEC fixes is checked; extra fields and stricter validation are
the learner's choice. `PaginationParams.sort_by` is the whitelist of section 3
(GET /users answers 422 for any other field). Role handling at registration is
graded over HTTP in step 7.
"""

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

USER_ID = uuid.UUID("0b6f4b4e-8d2b-4f55-9a43-0d8e8a3c2f10")
NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


def schemas(module: str) -> Any:
    import importlib

    return importlib.import_module(f"app.domain.schemas.{module}")


def valid_user_create(**overrides: Any) -> dict[str, Any]:
    data = {"email": "ada@example.com", "password": "a-good-password", "full_name": "Ada"}
    data.update(overrides)
    return data


def accepts(schema: Any, data: dict[str, Any]) -> bool:
    try:
        schema.model_validate(data)
    except ValidationError:
        return False
    return True


@pytest.mark.grade("D10", 1)
def test_base_schema_reads_attributes_of_orm_objects() -> None:
    base_schema = schemas("base").BaseSchema

    class Probe(base_schema):  # type: ignore[misc,valid-type]
        name: str

    try:
        probe = Probe.model_validate(SimpleNamespace(name="Ada"))
    except ValidationError:
        pytest.fail(
            "expected BaseSchema to read objects by attribute (from_attributes=True), "
            "but validating an object failed"
        )
    assert probe.name == "Ada", f"expected the attribute value 'Ada', found {probe.name!r}"


@pytest.mark.grade("D10", 1)
def test_base_schema_strips_whitespace_from_strings() -> None:
    base_schema = schemas("base").BaseSchema

    class Probe(base_schema):  # type: ignore[misc,valid-type]
        name: str

    probe = Probe.model_validate({"name": "  Ada Lovelace \n"})
    assert probe.name == "Ada Lovelace", (
        f"expected BaseSchema to strip whitespace (str_strip_whitespace=True), found {probe.name!r}"
    )


@pytest.mark.grade("D10", 1)
@pytest.mark.parametrize(
    ("name", "fields"), [("IDSchema", {"id"}), ("TimestampSchema", {"created_at", "updated_at"})]
)
def test_building_block_schema_has_its_fields(name: str, fields: set[str]) -> None:
    schema = getattr(schemas("base"), name, None)
    assert schema is not None, f"expected a class {name} in app/domain/schemas/base.py"
    missing = fields - set(schema.model_fields)
    assert not missing, f"expected {name} to have the field(s) {', '.join(sorted(missing))}"


@pytest.mark.grade("D10", 1)
def test_user_create_accepts_a_valid_user() -> None:
    user_create = schemas("user").UserCreate
    try:
        created = user_create.model_validate(valid_user_create())
    except ValidationError as exc:
        pytest.fail(f"expected UserCreate to accept a valid user, found errors: {exc.errors()[:2]}")
    assert str(created.email).lower() == "ada@example.com", (
        f"expected the email to be kept, found {created.email!r}"
    )


# "ADA" in full-width letters: email-validator keeps them (it applies only NFC before
# the @), and str.lower() makes them full-width lower-case letters, not "ada".
FULL_WIDTH_ADA = "\uff21\uff24\uff21@example.com"


@pytest.mark.grade("D10", 1)
@pytest.mark.parametrize(
    "spelling", [FULL_WIDTH_ADA, "Ada@Example.COM"], ids=["full-width", "mixed-case"]
)
def test_user_schemas_store_one_spelling_of_an_email(spelling: str) -> None:
    module = schemas("user")
    for name in ("UserRegister", "UserCreate"):
        try:
            created = getattr(module, name).model_validate(valid_user_create(email=spelling))
        except ValidationError as exc:
            pytest.fail(f"expected {name} to accept {spelling!r}, found: {exc.errors()[:2]}")
        assert str(created.email) == "ada@example.com", (
            f"expected {name} to store {spelling!r} as 'ada@example.com' (Unicode NFKC, then "
            f"lower-case: one normalize_email for every way in), found {str(created.email)!r}"
        )


@pytest.mark.grade("D10", 1)
def test_a_full_width_at_sign_is_refused_not_turned_into_a_second_at() -> None:
    email = "ada\uff20evil@example.com"  # a full-width at sign before the @
    for name in ("UserRegister", "UserCreate"):
        schema = getattr(schemas("user"), name)
        try:
            created = schema.model_validate(valid_user_create(email=email))
        except ValidationError:
            continue
        pytest.fail(
            f"expected {name} to refuse {email!r}, found it stored as {str(created.email)!r}: "
            "email-validator accepts the full-width at sign, and NFKC after it makes a second @ "
            "(normalize_email before EmailStr validates, too)"
        )


@pytest.mark.grade("D10", 1)
def test_passwords_keep_their_spaces() -> None:
    password = "  spaced password  "
    for name in ("UserRegister", "UserCreate"):
        schema = getattr(schemas("user"), name)
        created = schema.model_validate(valid_user_create(password=password))
        kept = created.password
        kept = kept.get_secret_value() if hasattr(kept, "get_secret_value") else kept
        assert kept == password, (
            f"expected {name} to keep the password {password!r} as typed, found {kept!r}: "
            "BaseSchema strips whitespace from strings, so the password type must opt out "
            "(StringConstraints(strip_whitespace=False)), or the login form, which no schema "
            "trims, never matches it"
        )


@pytest.mark.grade("D10", 1)
@pytest.mark.parametrize(("length", "ok"), [(0, False), (1, True), (100, True), (101, False)])
def test_full_name_is_1_to_100_characters(length: int, ok: bool) -> None:
    for name in ("UserRegister", "UserCreate"):
        schema = getattr(schemas("user"), name)
        accepted = accepts(schema, valid_user_create(full_name="n" * length))
        assert accepted is ok, (
            f"expected {name} to {'accept' if ok else 'refuse'} a full_name of {length} "
            f"characters (1 to 100: the column holds 100, and PostgreSQL refuses a longer "
            f"one, a 500), but it was {'accepted' if accepted else 'refused'}"
        )


@pytest.mark.grade("D10", 1)
@pytest.mark.parametrize("email", ["not-an-email", "ada@"])
def test_user_create_rejects_an_invalid_email(email: str) -> None:
    user_create = schemas("user").UserCreate
    assert not accepts(user_create, valid_user_create(email=email)), (
        f"expected UserCreate to reject the email {email!r}, but it was accepted"
    )


@pytest.mark.grade("D10", 1)
@pytest.mark.parametrize(("length", "ok"), [(7, False), (8, True), (128, True), (129, False)])
def test_user_create_password_is_8_to_128_characters(length: int, ok: bool) -> None:
    user_create = schemas("user").UserCreate
    assert "password" in user_create.model_fields, "expected UserCreate to have a `password` field"
    accepted = accepts(user_create, valid_user_create(password="p" * length))
    assert accepted is ok, (
        f"expected UserCreate to {'accept' if ok else 'reject'} a password of {length} "
        f"characters (8 to 128 are allowed), but it was {'accepted' if accepted else 'rejected'}"
    )


@pytest.mark.grade("D10", 1)
def test_user_update_is_partial() -> None:
    user_update = schemas("user").UserUpdate
    try:
        empty = user_update.model_validate({})
        renamed = user_update.model_validate({"full_name": "Grace"})
    except ValidationError as exc:
        pytest.fail(f"expected every UserUpdate field to be optional, found: {exc.errors()[:2]}")
    assert empty.model_dump(exclude_unset=True) == {}, (
        f"expected an empty UserUpdate to set nothing, found {empty.model_dump(exclude_unset=True)}"
    )
    assert renamed.model_dump(exclude_unset=True) == {"full_name": "Grace"}, (
        "expected UserUpdate(full_name='Grace') to set only full_name, found "
        f"{renamed.model_dump(exclude_unset=True)}"
    )


@pytest.mark.grade("D10", 1)
def test_user_update_rejects_an_unknown_role() -> None:
    user_update = schemas("user").UserUpdate
    assert "role" in user_update.model_fields, "expected UserUpdate to have a `role` field"
    for role in ("admin", "moderator", "user"):
        assert accepts(user_update, {"role": role}), f"expected UserUpdate to accept role {role!r}"
    assert not accepts(user_update, {"role": "superuser"}), (
        "expected UserUpdate to reject role 'superuser' (roles: admin, moderator, user)"
    )


@pytest.mark.grade("D10", 1)
def test_user_self_update_asks_for_the_current_password_with_a_new_one() -> None:
    self_update = schemas("user").UserSelfUpdate
    assert "current_password" in self_update.model_fields, (
        "expected UserSelfUpdate to have a `current_password` field (a new password needs "
        "the current one)"
    )
    assert not accepts(self_update, {"password": "a-new-passphrase"}), (
        "expected UserSelfUpdate to reject a new `password` without `current_password` (a "
        "model validator: a stolen access token alone must not change the password)"
    )
    for data in (
        {"password": "a-new-passphrase", "current_password": "the-old-one-1"},
        {"full_name": "Ada"},
        {},
    ):
        assert accepts(self_update, data), f"expected UserSelfUpdate to accept {data}"


def orm_user() -> Any:
    """A learner User instance as it comes out of the database (no session needed)."""
    from app.domain.models.user import User

    return User(
        id=USER_ID,
        email="ada@example.com",
        password_hash="$argon2id$v=19$m=65536,t=3,p=4$not-a-real-hash",
        full_name="Ada Lovelace",
        role="admin",
        is_active=True,
        created_at=NOW,
        updated_at=NOW,
        deleted_at=None,
    )


@pytest.mark.grade("D10", 2)
def test_user_response_reads_a_user_and_never_shows_the_password() -> None:
    user_response = schemas("user").UserResponse
    fields = set(user_response.model_fields)
    leaked = sorted(name for name in fields if "password" in name or "hash" in name)
    assert not leaked, f"expected UserResponse to never carry the password, found {leaked}"
    try:
        dumped = user_response.model_validate(orm_user()).model_dump(mode="json")
    except ValidationError as exc:
        pytest.fail(
            f"expected UserResponse to read a User object, found errors: {exc.errors()[:2]}"
        )
    expected = {
        "id": str(USER_ID),
        "email": "ada@example.com",
        "full_name": "Ada Lovelace",
        "role": "admin",
        "is_active": True,
    }
    shown = {key: dumped.get(key) for key in expected}
    assert shown == expected, f"expected UserResponse to show {expected}, found {shown}"
    assert "argon2" not in str(dumped), "expected no password hash in UserResponse's output"


@pytest.mark.grade("D10", 1)
def test_user_list_response_holds_a_page() -> None:
    module = schemas("user")
    item = module.UserResponse.model_validate(orm_user())
    try:
        page = module.UserListResponse.model_validate(
            {"items": [item], "total": 41, "page": 3, "limit": 20, "total_pages": 3}
        )
    except ValidationError as exc:
        pytest.fail(
            "expected UserListResponse(items, total, page, limit, total_pages) to accept a page, "
            f"found errors: {exc.errors()[:2]}"
        )
    dumped = page.model_dump(mode="json")
    assert (
        dumped.get("total"),
        dumped.get("page"),
        dumped.get("limit"),
        dumped.get("total_pages"),
    ) == (41, 3, 20, 3), (
        f"expected total=41, page=3, limit=20, total_pages=3 to be kept, found {dumped}"
    )
    assert len(dumped.get("items", [])) == 1, "expected the items to be kept"


@pytest.mark.grade("D10", 1)
def test_user_list_response_holds_an_empty_first_page() -> None:
    empty = {"items": [], "total": 0, "page": 1, "limit": 1, "total_pages": 0}
    try:
        schemas("user").UserListResponse.model_validate(empty)
    except ValidationError as exc:
        pytest.fail(
            f"expected UserListResponse to accept {empty} (a search that matches nobody: "
            f"total >= 0, page >= 1, limit >= 1, total_pages >= 0), found: {exc.errors()[:2]}"
        )


@pytest.mark.grade("D10", 1)
def test_pagination_params_defaults_are_valid() -> None:
    params = schemas("common").PaginationParams()
    assert params.page == 1, (
        f"expected PaginationParams().page to default to 1, found {params.page}"
    )
    assert 1 <= params.limit <= 100, f"expected a default limit in 1..100, found {params.limit}"
    assert params.sort_order in ("asc", "desc"), (
        f"expected the default sort_order to be asc or desc, found {params.sort_order!r}"
    )
    assert "search" in type(params).model_fields, "expected PaginationParams to have `search`"
    assert "sort_by" in type(params).model_fields, "expected PaginationParams to have `sort_by`"


@pytest.mark.grade("D10", 1)
@pytest.mark.parametrize(
    ("values", "ok"),
    [
        ({"page": 0}, False),
        ({"page": 1}, True),
        ({"limit": 0}, False),
        ({"limit": 1}, True),
        ({"limit": 100}, True),
        ({"limit": 101}, False),
        ({"sort_order": "asc"}, True),
        ({"sort_order": "up"}, False),
        ({"sort_by": "full_name"}, True),
        ({"sort_by": "password_hash"}, False),
    ],
    ids=lambda value: (
        "-".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else str(value)
    ),
)
def test_pagination_params_bounds(values: dict[str, Any], ok: bool) -> None:
    pagination = schemas("common").PaginationParams
    missing = set(values) - set(pagination.model_fields)
    assert not missing, f"expected PaginationParams to have the field(s) {', '.join(missing)}"
    accepted = accepts(pagination, values)
    assert accepted is ok, (
        f"expected PaginationParams to {'accept' if ok else 'reject'} {values} (page >= 1, "
        "1 <= limit <= 100, sort_order asc or desc, sort_by one of created_at, updated_at, "
        f"email, full_name, role), but it was "
        f"{'accepted' if accepted else 'rejected'}"
    )


@pytest.mark.grade("D10", 1)
def test_message_and_error_responses_have_the_envelope_fields() -> None:
    common = schemas("common")
    message_response = common.MessageResponse
    assert "message" in message_response.model_fields, "expected MessageResponse to have `message`"
    data = {"message": "done", "success": True}
    if "success" not in message_response.model_fields:
        data.pop("success")
    message = message_response.model_validate(data)
    assert message.message == "done", "expected MessageResponse to keep `message`"
    error = common.ErrorResponse
    missing = {"message", "detail", "status_code"} - set(error.model_fields)
    assert not missing, f"expected ErrorResponse to have the field(s) {', '.join(sorted(missing))}"
    base = {"message": "Invalid", "status_code": 422}
    if "request_id" in error.model_fields:
        base["request_id"] = "abc"
    for detail in (None, "why", [{"loc": ["body", "email"], "msg": "bad"}]):
        try:
            error.model_validate({**base, "detail": detail})
        except ValidationError:
            pytest.fail(f"expected ErrorResponse.detail to accept {detail!r} (str, list or null)")
