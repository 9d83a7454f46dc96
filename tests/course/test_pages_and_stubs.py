"""Course consistency: the step pages, the checkpoints' stubs and starters, and the
grading checks say the same thing as the solution.

- every function a recipe stubs has a docstring in the solution (its TODO says "see
  its docstring"), and is named, in backticks, on its step's page;
- a starter that sends the learner to a page sends them to one that exists and holds
  what it promises;
- what a page states about the code (a signature, the error envelope, a call, the
  form of an id) and about a library (pydantic-settings' lists, Starlette's CORS
  preflight) is what the code and the installed library do.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Annotated

import pytest
from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsError

from course.checkpoints import RECIPES, SOLUTION, STEPS, Recipe, _functions
from course.manifest import REPO_ROOT, load_manifest

MANIFEST = load_manifest()
NUMBERS = [step.number for step in MANIFEST.steps]
DOCS = REPO_ROOT / MANIFEST.docs_base
CODE_SPAN = re.compile(r"`([^`\n]+)`")
SNIPPET = re.compile(r"^\s*--8<--")
# A section a tool writes into a page (a table from the manifest or the tests).
GENERATED = re.compile(r"^<!-- begin ([\w:-]+).*?^<!-- end \1 -->$", re.MULTILINE | re.DOTALL)
FENCE = re.compile(r"^\s*```(\w*)\s*$")
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}


def page_path(number: int) -> Path:
    return DOCS / MANIFEST.step(number).docs


def page_text(number: int) -> str:
    """Step `number`'s page as written: included files and generated tables left out.

    An included file names every function in it, so a page would name a function only
    because it shows the reference solution; what counts is what the page says.
    """
    text = GENERATED.sub("", page_path(number).read_text(encoding="utf-8"))
    return "\n".join(line for line in text.splitlines() if not SNIPPET.match(line))


def prose(text: str) -> str:
    """`text` with its whitespace runs made one space (a phrase may break across lines)."""
    return " ".join(text.split())


def code_spans(text: str) -> set[str]:
    """The text of every inline code span, also without a call's arguments: `f(x)` -> f."""
    spans = set()
    for raw in CODE_SPAN.findall(text):
        span = raw.strip()
        spans.add(span)
        spans.add(re.sub(r"\(.*\)$", "", span))
    return spans


def fenced_blocks(text: str, language: str) -> list[str]:
    """The content of every fenced code block of `language` in `text`."""
    blocks: list[str] = []
    current: list[str] = []
    opened: str | None = None  # the language of the block we are in, if any
    for line in text.splitlines():
        fence = FENCE.match(line)
        if fence is None:
            if opened is not None:
                current.append(line)
        elif opened is None:
            opened, current = fence.group(1), []
        else:
            if opened == language:
                blocks.append("\n".join(current))
            opened = None
    return blocks


STUBS = [
    (number, file, name)
    for number in NUMBERS
    for file, names in Recipe.load(number).exercise.stubs.items()
    for name in names
]


def stub_id(stub: tuple[int, str, str]) -> str:
    number, file, name = stub
    return f"step{number}-{file}:{name}"


def solution_function(file: str, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    tree = ast.parse((SOLUTION / file).read_text(encoding="utf-8"))
    functions = _functions(tree)
    assert name in functions, f"solution/{file} has no function {name} (the recipe names it)"
    return functions[name]


def test_the_recipes_stub_functions() -> None:
    assert len(STUBS) > 50, "expected the recipes to stub the steps' functions"


@pytest.mark.parametrize("stub", STUBS, ids=stub_id)
def test_every_stubbed_function_has_a_docstring_in_the_solution(
    stub: tuple[int, str, str],
) -> None:
    number, file, name = stub
    docstring = ast.get_docstring(solution_function(file, name))
    assert docstring and docstring.strip(), (
        f"course/checkpoints/{number:02d}.toml stubs {name} in {file}, and the checkpoint keeps "
        f"its docstring for the learner (its TODO may say 'see its docstring'), but "
        f"solution/{file} gives {name} none: say what it must do and why"
    )


def named_on_page(name: str, spans: set[str]) -> bool:
    """Whether the page names the function `name` (`Class.method` or `function`).

    A function or method counts by its own name or its qualified one. A special method
    (`__init__`, `__call__`) counts by its class: writing `AppException` or
    `RequestIDMiddleware` is writing its constructor or its ASGI entry point.
    """
    owner, _, function = name.rpartition(".")
    if name in spans or function in spans:
        return True
    return function.startswith("__") and function.endswith("__") and owner in spans


@pytest.mark.parametrize("stub", STUBS, ids=stub_id)
def test_every_stubbed_function_is_named_on_its_step_page(stub: tuple[int, str, str]) -> None:
    number, file, name = stub
    spans = code_spans(page_text(number))
    owner, _, function = name.rpartition(".")
    wanted = f"`{owner}`" if function.startswith("__") else f"`{function}` or `{name}`"
    assert named_on_page(name, spans), (
        f"step {number} stubs {name} ({file}), but {page_path(number).relative_to(REPO_ROOT)} "
        f"never names it outside the included source: write {wanted} in its tasks or text"
    )


# --- Starters ----------------------------------------------------------------------


STARTERS = sorted(
    path.relative_to(RECIPES).as_posix()
    for path in RECIPES.glob("[0-9][0-9]/**/*")
    if path.is_file()
)
DOCS_PATH = re.compile(r"\bdocs/[\w./-]+\.md\b")


@pytest.mark.parametrize("starter", STARTERS)
def test_every_page_a_starter_names_exists(starter: str) -> None:
    text = (RECIPES / starter).read_text(encoding="utf-8")
    missing = [path for path in DOCS_PATH.findall(text) if not (REPO_ROOT / path).is_file()]
    assert not missing, f"course/checkpoints/{starter} sends the learner to missing pages {missing}"


def test_the_config_starter_names_the_page_that_lists_the_settings() -> None:
    starter = RECIPES / "02" / "app" / "core" / "config.py"
    text = prose(starter.read_text(encoding="utf-8"))
    promise = re.search(r"(docs/[\w./-]+\.md)\W*lists them", text)
    assert promise, f"expected {starter.name} to say which page lists the settings"
    page = (REPO_ROOT / promise.group(1)).read_text(encoding="utf-8")
    assert re.search(r"^<!-- (begin )?settings-table\b", page, re.MULTILINE), (
        f"course/checkpoints/02/app/core/config.py says {promise.group(1)} lists the settings, "
        "but that page has no settings table: docs/reference/settings.md has it"
    )


# --- Step 2: list settings and the factory ----------------------------------------


def solution_settings(env: dict[str, str]) -> str:
    """`Settings().CORS_ORIGINS` of the solution with `env` in a clean environment, as JSON.

    A process of its own: the solution's `app` package stays out of this one.
    """
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CORS_", "JWT_"))}
    code = (
        "import json\nfrom app.core.config import Settings\n"
        "print(json.dumps(Settings(_env_file=None).CORS_ORIGINS))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=SOLUTION,
        env=clean | {"PYTHONPATH": str(SOLUTION), "ENVIRONMENT": "testing"} | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def test_step_2_page_shows_both_list_forms_and_the_solution_reads_each_of_them() -> None:
    spans = code_spans(page_text(2))
    examples = sorted(span for span in spans if span.startswith("CORS_ORIGINS="))
    values = [example.partition("=")[2] for example in examples]
    assert any(value.startswith("[") for value in values), (
        f"expected the step 2 page to show CORS_ORIGINS as a JSON array, found {examples}"
    )
    assert any(not value.startswith("[") and "," in value for value in values), (
        f"expected the step 2 page to show CORS_ORIGINS comma-separated, found {examples}"
    )
    for value in values:
        expected = json.loads(value) if value.startswith("[") else value.split(",")
        found = json.loads(solution_settings({"CORS_ORIGINS": value}))
        assert found == expected, (
            f"the step 2 page shows CORS_ORIGINS={value}; the solution reads it as {found}"
        )


def test_the_json_form_the_issue_reported_is_one_origin_not_its_text() -> None:
    found = json.loads(solution_settings({"CORS_ORIGINS": '["https://a.example"]'}))
    assert found == ["https://a.example"]


def test_pydantic_settings_reads_list_fields_as_the_step_2_page_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Plain(BaseSettings):
        CORS_ORIGINS: list[str] = []

    class SplitOnCommas(BaseSettings):
        CORS_ORIGINS: Annotated[list[str], NoDecode] = []

        @field_validator("CORS_ORIGINS", mode="before")
        @classmethod
        def split(cls, value: object) -> object:
            return value.split(",") if isinstance(value, str) else value

    page = prose(page_text(2))
    # A plain list field: JSON only; a comma-separated value stops the settings.
    monkeypatch.setenv("CORS_ORIGINS", "http://a,http://b")
    message = 'error parsing value for field "CORS_ORIGINS" from source "EnvSettingsSource"'
    with pytest.raises(SettingsError, match=re.escape(message)):
        Plain(_env_file=None)
    assert message in page
    monkeypatch.setenv("CORS_ORIGINS", '["https://a.example"]')
    assert Plain(_env_file=None).CORS_ORIGINS == ["https://a.example"]
    # NoDecode and a comma split: the JSON array becomes one origin, brackets and all.
    assert SplitOnCommas(_env_file=None).CORS_ORIGINS == ['["https://a.example"]']
    assert 'becomes the one origin `["https://a.example"]`' in page


def create_app_parameters(main: Path) -> list[str]:
    tree = ast.parse(main.read_text(encoding="utf-8"))
    [factory] = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name == "create_app"
    ]
    return [argument.arg for argument in factory.args.args]


@pytest.mark.parametrize("number", NUMBERS)
def test_a_create_app_signature_on_a_page_is_the_one_of_that_step(number: int) -> None:
    # The end of step N is checkpoint N+1 without its TODOs (the solution after step 8).
    after = SOLUTION if number == NUMBERS[-1] else STEPS / MANIFEST.step(number + 1).slug
    main = after / "app" / "main.py"
    if not main.exists():
        return
    parameters = create_app_parameters(main)
    for span in CODE_SPAN.findall(page_text(number)):
        call = re.fullmatch(r"create_app\((.*)\)", span.strip())
        if not call or not call.group(1):
            continue
        named = [part.split("=")[0].strip() for part in call.group(1).split(",")]
        extra = [name for name in named if name not in parameters]
        assert not extra, (
            f"step {number}'s page documents `{span}`, but at the end of step {number} "
            f"create_app takes {parameters}: {extra} arrive later"
        )


# --- Step 3: exceptions and the envelope ------------------------------------------


def test_step_3_page_counts_the_subclasses_of_app_exception() -> None:
    tree = ast.parse((SOLUTION / "app/core/exceptions.py").read_text(encoding="utf-8"))
    subclasses = [
        node.name
        for node in tree.body
        if isinstance(node, ast.ClassDef)
        and any(isinstance(base, ast.Name) and base.id == "AppException" for base in node.bases)
    ]
    text = prose(page_text(3))
    counts = re.findall(r"its (\w+) subclasses", text)
    assert counts, "expected the step 3 page to say how many subclasses AppException has"
    for word in counts:
        assert NUMBER_WORDS.get(word) == len(subclasses), (
            f"the step 3 page says AppException has {word} subclasses; "
            f"solution/app/core/exceptions.py has {len(subclasses)}: {subclasses}"
        )
    spans = code_spans(text)
    assert [name for name in subclasses if name not in spans] == []


def envelope_keys(error_handler: Path) -> list[str]:
    """The keys of the envelope `error_response()` builds in `error_handler`."""
    tree = ast.parse(error_handler.read_text(encoding="utf-8"))
    [function] = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name == "error_response"
    ]
    [body] = [node for node in ast.walk(function) if isinstance(node, ast.Dict)]
    return [ast.literal_eval(key) for key in body.keys if key is not None]


def test_step_3_envelope_example_has_the_keys_the_envelope_has_before_step_7() -> None:
    # Checkpoint 4 holds step 3's error handler as finished: what steps 3 to 6 answer.
    keys = envelope_keys(STEPS / MANIFEST.step(4).slug / "app/middleware/error_handler.py")
    assert "request_id" not in keys, "step 7 adds request_id, not step 3"
    examples = [
        json.loads(block) for block in fenced_blocks(page_text(3), "json") if "status_code" in block
    ]
    assert examples, "expected the step 3 page to show the error envelope as JSON"
    for example in examples:
        assert list(example) == keys, (
            f"the step 3 page shows the envelope {example}; before step 7 it has the keys {keys}"
        )
    assert "no `request_id` key" in prose(page_text(3))
    assert "request_id" in envelope_keys(SOLUTION / "app/middleware/error_handler.py")


def test_step_3_page_names_every_exception_that_means_the_database_is_unreachable() -> None:
    tree = ast.parse((SOLUTION / "app/middleware/error_handler.py").read_text(encoding="utf-8"))
    [value] = [
        node.value
        for node in tree.body
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and node.target.id == "DATABASE_UNAVAILABLE"
    ]
    assert isinstance(value, ast.Tuple)
    names = [ast.unparse(element).rpartition(".")[2] for element in value.elts]
    spans = code_spans(page_text(3))
    assert "DATABASE_UNAVAILABLE" in spans
    assert [name for name in names if name not in spans] == [], (
        f"expected the step 3 page to name each exception of DATABASE_UNAVAILABLE: {names}"
    )


# --- Step 6: the partial update ------------------------------------------------------


def test_step_6_page_quotes_the_model_dump_call_the_service_makes() -> None:
    text = page_text(6)
    calls = [span for span in CODE_SPAN.findall(text) if "model_dump(" in span]
    assert calls, "expected the step 6 page to say how an update is made partial"
    source = (SOLUTION / "app/service/user_service.py").read_text(encoding="utf-8")
    for call in calls:
        assert call in source, (
            f"the step 6 page quotes `{call}`, which solution/app/service/user_service.py "
            "does not make"
        )
    assert '`"full_name": null`' in text, "expected the page to say what a null name means"


# --- Step 7: the CORS preflight and the request id -----------------------------------


def test_step_7_page_describes_starlettes_preflight_response_as_it_is() -> None:
    from starlette.datastructures import Headers
    from starlette.middleware.cors import CORSMiddleware

    middleware = CORSMiddleware(
        None,  # type: ignore[arg-type]
        allow_origins=["http://allowed.example"],
        allow_methods=["GET"],
        allow_credentials=True,
    )
    allowed = middleware.preflight_response(
        Headers({"origin": "http://allowed.example", "access-control-request-method": "GET"})
    )
    refused = middleware.preflight_response(
        Headers({"origin": "http://other.example", "access-control-request-method": "PUT"})
    )
    text = prose(page_text(7))
    assert (allowed.status_code, bytes(allowed.body)) == (200, b"OK")
    assert "status 200, body `OK`" in text
    assert refused.status_code == 400
    assert "status 400" in text
    assert f"`{bytes(refused.body).decode()}`" in text, (
        f"expected the page's example refusal to be Starlette's text {bytes(refused.body)!r}"
    )
    assert f"`Vary: {allowed.headers['vary']}`" in text
    assert refused.headers["vary"] == allowed.headers["vary"]
    assert "access-control-allow-origin" in allowed.headers
    assert "access-control-allow-origin" not in refused.headers
    assert f"`Access-Control-Max-Age` ({allowed.headers['access-control-max-age']})" in text


REQUEST_ID_FORM = "canonical 36-character form"


def test_the_request_id_form_is_the_same_on_the_page_in_the_docstring_and_in_the_check() -> None:
    tree = ast.parse((SOLUTION / "app/middleware/request_id.py").read_text(encoding="utf-8"))
    docstring = prose(ast.get_docstring(_functions(tree)["choose_request_id"]) or "")
    check = (REPO_ROOT / "tests/step_07/test_middleware.py").read_text(encoding="utf-8")
    assert REQUEST_ID_FORM in prose(page_text(7)), "the step 7 page"
    assert REQUEST_ID_FORM in docstring, "choose_request_id's docstring"
    assert REQUEST_ID_FORM in prose(check), "the step 7 check's message"


def test_the_request_id_check_accepts_exactly_the_canonical_form() -> None:
    from tests.step_07.test_middleware import fresh_uuid4

    new = uuid.uuid4()
    assert fresh_uuid4(str(new))
    assert len(str(new)) == 36
    refused = {
        "hex": new.hex,
        "upper case": str(new).upper(),
        "braces": "{" + str(new) + "}",
        "urn": new.urn,
        "a UUID1": str(uuid.uuid1()),
        "no id": None,
    }
    accepted = [name for name, value in refused.items() if fresh_uuid4(value)]
    assert accepted == [], f"the check accepts forms the course does not ask for: {accepted}"
