"""Write the eight notebooks of the course from the cells below (nbformat, no outputs).

    python notebooks/generate.py          # (re)write notebooks/NN-<slug>.ipynb
    python notebooks/generate.py --check  # exit 1 if a notebook differs from this file

The notebooks are stored without outputs so their diffs stay readable; edit the cells
here, not in Jupyter, and regenerate.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent

# Every notebook starts here: it finds the solution, works in a temporary copy of it
# (so nothing is ever written into solution/) and points the app at a temporary SQLite
# database. `nox -s notebooks` already starts the kernel in such a copy.
SETUP = """\
import os, shutil, sys, tempfile
from pathlib import Path

if not Path("app/main.py").is_file():  # opened from the repository: work on a copy
    root = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "solution/app").is_dir())
    copy = Path(tempfile.mkdtemp(prefix="notebook-")) / "solution"
    shutil.copytree(root / "solution", copy, ignore=shutil.ignore_patterns("*.db", ".env"))
    os.chdir(copy)
sys.path.insert(0, os.getcwd())
DB_FILE = Path(tempfile.mkdtemp(prefix="notebook-db-")) / "notebook.db"
os.environ["DATABASE_URL"] = f"sqlite+aiosqlite:///{DB_FILE}"
os.environ.setdefault("LOG_LEVEL", "WARNING")
print("working in", os.getcwd())"""

NOTEBOOKS: dict[str, list[tuple[str, str]]] = {}

NOTEBOOKS["01-skeleton"] = [
    (
        "md",
        """# Step 1 — The layout and the import graph

The solution is split into layers, and each may import only the layers beneath it.
This notebook reads the source (without running it) and draws the graph of which
layer imports which, so you can see the dependency rule hold.""",
    ),
    ("code", SETUP),
    ("md", "## The packages\n\nEvery folder of `app/` is a package with an `__init__.py`."),
    (
        "code",
        """for init in sorted(Path("app").rglob("__init__.py")):
    modules = sorted(p.stem for p in init.parent.glob("*.py") if p.stem != "__init__")
    print(f"{str(init.parent):24} {', '.join(modules)}")""",
    ),
    (
        "md",
        """## Who imports whom

We parse every module with `ast`, keep the imports of `app.*`, and count them per pair
of layers (`api`, `middleware`, `service`, `repository`, `domain`, `core`).""",
    ),
    (
        "code",
        """import ast
from collections import Counter

def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "app"

edges = Counter()
for path in Path("app").rglob("*.py"):
    source = ".".join(path.with_suffix("").parts)
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("app."):
            edges[layer(source), layer(node.module)] += 1
for (a, b), n in sorted(edges.items()):
    if a != b:
        print(f"{a:11} -> {b:11} {n}")""",
    ),
    (
        "md",
        """## The rule, checked

Rank the layers from the top. An import may go to the same rank or lower, never up;
`core` is at the bottom and imports no layer.""",
    ),
    (
        "code",
        """rank = {"main": 0, "api": 1, "middleware": 1, "service": 2, "repository": 3,
        "domain": 4, "utils": 4, "core": 5}
upward = [(a, b) for (a, b) in edges if a in rank and b in rank and rank[b] < rank[a]]
print("imports that point up:", upward or "none")
assert not upward""",
    ),
    (
        "md",
        """The solution writes the same rule as import-linter contracts in
`pyproject.toml`; the grader checks it in your code at steps 4 to 7.""",
    ),
]

NOTEBOOKS["02-settings-app"] = [
    (
        "md",
        """# Step 2 — Settings precedence and the application factory

`Settings` reads each value from, in order: arguments, the environment, a `.env` file,
the default. Let us watch each layer win.""",
    ),
    ("code", SETUP),
    (
        "code",
        """from pydantic import ValidationError
from app.core.config import Settings

print("default:", Settings(_env_file=None).PORT)
env_file = DB_FILE.with_name("example.env")
env_file.write_text("PORT=9000\\nCORS_ORIGINS=http://a.test,http://b.test\\n")
print(".env:", Settings(_env_file=env_file).PORT, Settings(_env_file=env_file).CORS_ORIGINS)
os.environ["PORT"] = "9100"
print("environment beats .env:", Settings(_env_file=env_file).PORT)
print("argument beats both:", Settings(_env_file=env_file, PORT=9200).PORT)
del os.environ["PORT"]""",
    ),
    ("md", "Values are validated once, at start-up: a bad one stops the app with a clear message."),
    (
        "code",
        """try:
    Settings(_env_file=None, PORT="eighty")
except ValidationError as exc:
    print(exc.errors()[0]["loc"], exc.errors()[0]["msg"])""",
    ),
    (
        "md",
        """## The production guard

With `ENVIRONMENT=production`, development secrets are refused.""",
    ),
    (
        "code",
        """try:
    Settings(_env_file=None, ENVIRONMENT="production")
except ValidationError as exc:
    print(exc.errors()[0]["msg"])
secret = "x" * 48
ok = Settings(_env_file=None, ENVIRONMENT="production", JWT_SECRET_KEY=secret,
              JWT_REFRESH_SECRET_KEY=secret[::-1] + "y", FIRST_ADMIN_PASSWORD="a-real-one",
              CORS_ORIGINS=["https://app.example.com"])
print("accepted:", ok.ENVIRONMENT, ok.JWT_SECRET_KEY)  # SecretStr never prints the secret""",
    ),
    (
        "md",
        """## A factory, called twice

`create_app()` builds a new app from the settings it is given, so a test can build
one with `DEBUG` on and another with it off.""",
    ),
    (
        "code",
        """import httpx
from app.main import create_app

for debug in (True, False):
    app = create_app(Settings(_env_file=None, DEBUG=debug))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as client:
        health = await client.get("/api/v1/health")
        docs = await client.get("/docs")
    print(f"DEBUG={debug}: /health {health.status_code} {health.json()}",
          f"/docs {docs.status_code}")""",
    ),
]

NOTEBOOKS["03-database-logging-errors"] = [
    (
        "md",
        """# Step 3 — Sessions, commit and rollback; the error envelope

`DatabaseManager.get_session()` is a unit of work: it commits if the block succeeds and
rolls back if it raises. We try both on a scratch table in a temporary SQLite file.""",
    ),
    ("code", SETUP),
    (
        "code",
        """from sqlalchemy import text
from app.core.database import DatabaseManager

db = DatabaseManager()
await db.connect()
async with db.engine.begin() as conn:
    await conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"))

async def bodies() -> list[str]:
    async with db.engine.connect() as conn:  # another connection, as another request
        return list((await conn.execute(text("SELECT body FROM notes"))).scalars())""",
    ),
    ("md", "A block that succeeds is committed: another connection sees the row."),
    (
        "code",
        """async with db.get_session() as session:
    await session.execute(text("INSERT INTO notes (body) VALUES ('kept')"))
print(await bodies())""",
    ),
    ("md", "A block that raises is rolled back: the row never existed for anyone else."),
    (
        "code",
        """try:
    async with db.get_session() as session:
        await session.execute(text("INSERT INTO notes (body) VALUES ('lost')"))
        raise RuntimeError("something failed after the insert")
except RuntimeError as exc:
    print("raised:", exc)
print(await bodies())""",
    ),
    (
        "md",
        """## Foreign keys on SQLite

SQLite ignores foreign keys unless each connection asks; the manager asks.""",
    ),
    (
        "code",
        """async with db.engine.connect() as conn:
    print("PRAGMA foreign_keys =", (await conn.execute(text("PRAGMA foreign_keys"))).scalar())
print("ping:", await db.ping())""",
    ),
    (
        "md",
        """## One envelope for every error

An unknown route, a validation error and an application error all answer with the
same four fields. The 422 keeps `loc`, `msg` and `type` — not the rejected input.""",
    ),
    (
        "code",
        """import httpx
from asgi_lifespan import LifespanManager
from app.core.config import Settings
from app.main import create_app

app = create_app(Settings(_env_file=None), database=db)
async with LifespanManager(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
    for method, url, body in [("GET", "/nowhere", None),
                              ("POST", "/api/v1/auth/register",
                               {"email": "x", "password": "short-secret", "full_name": "X"})]:
        response = await client.request(method, url, json=body)
        print(response.status_code, response.json())
        assert "short-secret" not in response.text""",
    ),
]

NOTEBOOKS["04-domain"] = [
    (
        "md",
        """# Step 4 — The users table and the schemas' validation errors

The models are plain Python; SQLAlchemy turns them into DDL for each database.""",
    ),
    ("code", SETUP),
    (
        "code",
        """from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable
from app.domain.models.user import User

for dialect in (sqlite.dialect(), postgresql.dialect()):
    print(f"-- {dialect.name}")
    print(str(CreateTable(User.__table__).compile(dialect=dialect)).strip())
    for index in User.__table__.indexes:
        print(str(CreateIndex(index).compile(dialect=dialect)).strip(), ";")
    print()""",
    ),
    (
        "md",
        """Note the `id` column: `CHAR(32)` on SQLite, native `UUID` on PostgreSQL
(`sqlalchemy.Uuid`), and the unique index on `lower(email)` **where** `deleted_at IS NULL`.

## Validation errors

The schemas are the API's contract. Each mistake is reported with where and why.""",
    ),
    (
        "code",
        """from pydantic import ValidationError
from app.domain.schemas.user import UserRegister, UserResponse

def errors(schema, **data):
    try:
        schema(**data)
    except ValidationError as exc:
        for e in exc.errors():
            print(f"  {'.'.join(map(str, e['loc'])):10} {e['type']:22} {e['msg']}")

print("too short a password, a bad email:")
errors(UserRegister, email="ada@", password="short", full_name="Ada")
print("asking for a role at registration:")
errors(UserRegister, email="ada@example.com", password="long-enough-1", full_name="Ada",
       role="admin")""",
    ),
    ("md", "Emails are normalised, and a response never carries the password hash."),
    (
        "code",
        """user = UserRegister(email="  Ada@Example.COM ", password="long-enough-1",
                    full_name=" Ada ")
print(repr(user.email), repr(user.full_name))
print(sorted(UserResponse.model_fields))""",
    ),
    (
        "code",
        """from app.domain.schemas.common import PaginationParams
errors(PaginationParams, sort_by="password_hash", limit=1000)""",
    ),
]

NOTEBOOKS["05-repositories"] = [
    (
        "md",
        """# Step 5 — The SQL a repository emits

We fill a temporary database with a few users, switch SQL echo on, and watch what
`UserRepository.get_users()` sends to the database.""",
    ),
    ("code", SETUP),
    (
        "code",
        """from app.core.database import DatabaseManager
from app.domain.models.base import Base
from app.domain.models.user import User
from app.repository.user_repository import UserRepository

db = DatabaseManager()
async with db.engine.begin() as conn:
    await conn.run_sync(Base.metadata.create_all)
names = ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger 100% Dijkstra", "Barbara_Liskov"]
async with db.get_session() as session:
    for name in names:
        first = name.split()[0].lower()
        session.add(User(email=f"{first}@example.com", full_name=name, password_hash="-"))""",
    ),
    (
        "md",
        """## Echo on

`DB_ECHO=true` does the same in the app. Parameters show as hidden: the engine is
created with `hide_parameters=True`, because bound values include password hashes.""",
    ),
    (
        "code",
        """db.engine.echo = True  # SQLAlchemy logs each statement to stdout
async with db.get_session() as session:
    users, total = await UserRepository(session).get_users(
        page=1, limit=2, search="a", sort_by="full_name", sort_order="asc")
db.engine.echo = False
print(total, [u.full_name for u in users])""",
    ),
    (
        "md",
        """## Wildcards are literal

`%` and `_` in a search term are escaped, so they match themselves.""",
    ),
    (
        "code",
        """async with db.get_session() as session:
    repo = UserRepository(session)
    for term in ("%", "_", "100%"):
        found, total = await repo.get_users(page=1, limit=10, search=term)
        print(f"{term!r:8} -> {[u.full_name for u in found]}")""",
    ),
    ("md", "Soft-deleted rows are invisible to every read."),
    (
        "code",
        """async with db.get_session() as session:
    repo = UserRepository(session)
    ada = await repo.get_by_email("ada@example.com")
    await repo.soft_delete(ada.id)
async with db.get_session() as session:
    repo = UserRepository(session)
    print(await repo.get_by_id(ada.id), await repo.email_exists("ada@example.com"))
await db.disconnect()""",
    ),
]

NOTEBOOKS["06-security-services"] = [
    (
        "md",
        """# Step 6 — JWT anatomy and the cost of Argon2

A JWT is three base64url parts: header, claims, signature. Anyone can read the first
two; only the holder of the secret can produce the third.""",
    ),
    ("code", SETUP),
    (
        "code",
        """import base64, json, uuid
from app.core.security import create_access_token, decode_access_token, create_refresh_token

token = create_access_token(str(uuid.uuid4()), "user", str(uuid.uuid4()))  # user, role, session
def part(segment: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
header, claims, signature = token.split(".")
print("header:", part(header))
print("claims:", part(claims))
print("signature:", signature[:16], "...")""",
    ),
    (
        "md",
        """## What is rejected

Change one claim, sign with nothing (`alg: none`), or use a refresh token where an
access token is expected: each is a 401.""",
    ),
    (
        "code",
        """import jwt
from app.core.exceptions import UnauthorizedException

forged_claims = {**part(claims), "role": "admin"}
forged = ".".join([header, base64.urlsafe_b64encode(json.dumps(forged_claims).encode())
                   .decode().rstrip("="), signature])
unsigned = jwt.encode(forged_claims, key=None, algorithm="none")
from datetime import UTC, datetime, timedelta
session_end = datetime.now(UTC) + timedelta(days=30)
refresh = create_refresh_token(part(claims)["sub"], part(claims)["sid"], uuid.uuid4().hex,
                               session_end)
for name, candidate in [("genuine", token), ("tampered", forged), ("alg none", unsigned),
                        ("refresh as access", refresh)]:
    try:
        decode_access_token(candidate)
        print(f"{name:18} accepted")
    except UnauthorizedException as exc:
        print(f"{name:18} rejected: {exc.message}")""",
    ),
    (
        "md",
        """## The cost of a hash

Argon2id is slow and memory-hungry on purpose. Its parameters are stored in the hash
itself. Hashing runs in a worker thread, so the event loop keeps serving others.""",
    ),
    (
        "code",
        """import time
from app.core.security import hash_password, verify_password

hashed = await hash_password("correct horse battery staple")
print(hashed[:40], "...")
start = time.perf_counter()
for _ in range(5):
    await verify_password("correct horse battery staple", hashed)
print(f"Argon2id verify: {(time.perf_counter() - start) / 5 * 1000:.1f} ms each")""",
    ),
    (
        "code",
        """try:
    import bcrypt
except ImportError:
    print("bcrypt is not installed here; the course uses Argon2id only")
else:
    salt = bcrypt.gensalt(rounds=12)
    start = time.perf_counter()
    bcrypt.hashpw(b"correct horse battery staple", salt)
    print(f"bcrypt (12 rounds): {(time.perf_counter() - start) * 1000:.1f} ms")
    print("bcrypt reads at most 72 bytes: longer passwords are refused by bcrypt 5")""",
    ),
    (
        "md",
        """Meanwhile the loop stays free: while a hash runs in a thread, a ticker on the
event loop keeps ticking.""",
    ),
    (
        "code",
        """import asyncio
ticks = 0
async def ticker():
    global ticks
    while True:
        await asyncio.sleep(0.001)
        ticks += 1
task = asyncio.create_task(ticker())
await asyncio.gather(*(hash_password(f"password-{i}") for i in range(4)))
task.cancel()
print("event loop ticks while hashing:", ticks)""",
    ),
]

NOTEBOOKS["07-api-middleware"] = [
    (
        "md",
        """# Step 7 — The whole API, in-process

httpx's `ASGITransport` calls the app directly, no server, no port. With
`asgi-lifespan`, start-up and shutdown run as under uvicorn.""",
    ),
    ("code", SETUP),
    (
        "code",
        """import httpx
from asgi_lifespan import LifespanManager
from app.core.config import Settings
from app.core.database import DatabaseManager
from app.core.security import hash_password
from app.domain.models.base import Base
from app.domain.models.user import User
from app.main import create_app

db = DatabaseManager()
async with db.engine.begin() as conn:
    await conn.run_sync(Base.metadata.create_all)
async with db.get_session() as session:
    session.add(User(email="admin@example.com", full_name="Admin", role="admin",
                     password_hash=await hash_password("admin-password")))
app = create_app(Settings(_env_file=None), database=db)
lifespan = LifespanManager(app)
await lifespan.__aenter__()
client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                           base_url="http://test/api/v1")""",
    ),
    ("md", "## Register, log in, read your profile"),
    (
        "code",
        """r = await client.post("/auth/register", json={"email": "ada@example.com",
                                             "password": "analytical-engine", "full_name": "Ada"})
print(r.status_code, r.json())
r = await client.post("/auth/login", data={"username": "ada@example.com",
                                           "password": "analytical-engine"})
tokens = r.json()
print(r.status_code, sorted(tokens))
ada = {"Authorization": f"Bearer {tokens['access_token']}"}
print((await client.get("/users/me", headers=ada)).json())""",
    ),
    ("md", "## Roles\n\nA plain user may not list users; an admin may."),
    (
        "code",
        """r = await client.get("/users", headers=ada)
print("as ada:", r.status_code, r.json()["message"])
login = await client.post("/auth/login", data={"username": "admin@example.com",
                                               "password": "admin-password"})
admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
r = await client.get("/users", headers=admin, params={"sort_by": "email", "sort_order": "asc"})
print("as admin:", r.status_code, [u["email"] for u in r.json()["items"]], r.json()["total"])""",
    ),
    (
        "md",
        """## Request ids

A valid incoming `X-Request-ID` is echoed; anything else is replaced. Error bodies
carry the same id.""",
    ),
    (
        "code",
        """for incoming in ("trace-42", "not valid!"):
    r = await client.get("/users/not-a-uuid", headers={**admin, "X-Request-ID": incoming})
    print(repr(incoming), "->", r.headers["X-Request-ID"], r.status_code,
          r.json()["request_id"] == r.headers["X-Request-ID"])""",
    ),
    (
        "md",
        """## Deactivation takes effect at once

Roles and state are read from the database on every request.""",
    ),
    (
        "code",
        """me = (await client.get("/users/me", headers=ada)).json()
await client.patch(f"/users/{me['id']}", headers=admin, json={"is_active": False})
r = await client.get("/users/me", headers=ada)
print("ada's old token now:", r.status_code, r.json()["message"])
await client.aclose()
_ = await lifespan.__aexit__(None, None, None)""",
    ),
]

NOTEBOOKS["08-migrations-delivery"] = [
    (
        "md",
        """# Step 8 — A migration up and down

Alembic's command API does what `alembic upgrade head` does on the command line. We
point it at a temporary SQLite file.""",
    ),
    ("code", SETUP),
    (
        "code",
        """import asyncio, sqlite3
from alembic import command
from alembic.config import Config

config = Config("alembic.ini")
config.set_main_option("sqlalchemy.url", os.environ["DATABASE_URL"])

def tables() -> list[str]:
    with sqlite3.connect(DB_FILE) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        return [row[0] for row in rows]""",
    ),
    (
        "md",
        """`env.py` runs the async engine with `asyncio.run()`, which cannot run inside the
notebook's own event loop: we call the commands in a worker thread.""",
    ),
    (
        "code",
        """await asyncio.to_thread(command.upgrade, config, "head")
print("after upgrade:", tables())
with sqlite3.connect(DB_FILE) as conn:
    print(conn.execute("SELECT sql FROM sqlite_master WHERE name='uq_users_email_active'")
          .fetchone()[0])""",
    ),
    (
        "code",
        """await asyncio.to_thread(command.downgrade, config, "base")
print("after downgrade:", tables())
await asyncio.to_thread(command.upgrade, config, "head")
print("and up again:", tables())""",
    ),
    (
        "md",
        """## Offline mode

With `sql=True` Alembic prints the SQL instead of running it — what a DBA reviews
before a production migration.""",
    ),
    (
        "code",
        """import contextlib, io
out = io.StringIO()
with contextlib.redirect_stdout(out):
    await asyncio.to_thread(command.upgrade, config, "base:head", sql=True)
print("\\n".join(out.getvalue().splitlines()[:25]))""",
    ),
    (
        "md",
        """## The seed script

It creates the first admin from the settings; a second run changes nothing.""",
    ),
    (
        "code",
        """from app.core.database import DatabaseManager
from scripts.seed import seed
db = DatabaseManager()
print("first run created", await seed(db, demo_users=3))
print("second run created", await seed(db, demo_users=3))
await db.disconnect()""",
    ),
]


def build(name: str) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for index, (kind, source) in enumerate(NOTEBOOKS[name]):
        cell = (nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell)(
            source
        )
        cell.id = f"{name[:2]}-{index:02d}"  # stable ids: regenerating changes nothing
        notebook.cells.append(cell)
    nbformat.validate(notebook)
    return notebook


def main(argv: list[str]) -> int:
    stale = []
    for name in NOTEBOOKS:
        path = HERE / f"{name}.ipynb"
        text = nbformat.writes(build(name)) + "\n"
        if "--check" in argv:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print("out of date (run python notebooks/generate.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
