"""Runs every Python snippet of the README's "Using the schema from the app" against a database
migrated by todo-db, and checks that each does what the README says.

Usage: APP_DATABASE_URL=postgresql+asyncpg://user:pw@host:port/db python3 test/python/app_schema.py
Prints one line per check; exits 1 on the first that fails, 77 when a library is missing.
"""
import asyncio
import os
import re
import sys
import types
import uuid
from pathlib import Path

try:
    import sqlalchemy
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
except ImportError as e:  # the test skips with this message
    print(f"missing Python library: {e.name}", file=sys.stderr)
    sys.exit(77)

README = Path(__file__).resolve().parents[2] / "README.md"
section = README.read_text().split("## Using the schema from the app", 1)[1].split("\n## ", 1)[0]
models, queries, sqlmodel_block, alembic_block = re.findall(r"```python\n(.*?)```", section, re.S)


def check(ok, what):
    if not ok:
        print(f"FAILED: {what}")
        sys.exit(1)
    print(f"ok: {what}")


ns = {"__name__": "app_models"}
exec(models, ns)
exec(queries, ns)
User, Category, Todo, Status, Base = (ns[k] for k in ("User", "Category", "Todo", "Status", "Base"))
user_by_email, live_todos, refused_field = (ns[k] for k in ("user_by_email", "live_todos", "refused_field"))

from sqlalchemy import Column, Enum, ForeignKey, Integer, MetaData, Table, Text, func, insert, select, text  # noqa: E402
from sqlalchemy.dialects.postgresql import UUID  # noqa: E402
from sqlalchemy.exc import IntegrityError  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine  # noqa: E402
from sqlalchemy.ext.automap import automap_base  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

engine = create_async_engine(os.environ["APP_DATABASE_URL"])
Session = sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
tag = uuid.uuid4().hex[:8]


async def refused(session, what, statement=None):
    """Runs statement (if any) and commits; expects the database to refuse. Returns the field
    refused_field() names for the error."""
    try:
        if statement is not None:
            await session.execute(statement)
        await session.commit()
    except IntegrityError as e:
        await session.rollback()
        return refused_field(e)
    check(False, f"{what}: refused")


async def mapped_models():
    async with Session() as s:
        alice = User(email=f"Alice-{tag}@Example.com")
        s.add(alice)
        await s.commit()
        alice_id = alice.id  # a refused commit rolls back and expires every loaded object
        check(alice.name is None and alice.created_at is not None, "sign-up with an e-mail alone; created_at comes back")
        found = (await s.execute(user_by_email(f"alice-{tag}@EXAMPLE.com"))).scalar_one()
        check(found.id == alice.id, "user_by_email finds Alice@ whatever the case")
        await s.execute(text("set enable_seqscan = off"))  # a tiny table: ask whether the index CAN serve it
        stmt = user_by_email("x@y.z").compile(engine.sync_engine, compile_kwargs={"literal_binds": True})
        plan = "\n".join(r[0] for r in await s.execute(text(f"explain {stmt}")))
        check("users_email_lower_key" in plan, "user_by_email's SQL is served by users_email_lower_key")
        await s.execute(text("reset enable_seqscan"))

        t = Todo(user=alice, title="Buy milk")
        s.add(t)
        await s.commit()
        tid = t.id
        check(t.status == Status.PENDING and t.completed_at is None and t.updated_at is not None, "new todo: pending, server defaults came back")
        t.status = Status.COMPLETED
        await s.commit()
        check(t.completed_at is not None, "completed by writing status alone: completed_at set and returned (eager_defaults)")
        t.status = Status.IN_PROGRESS
        await s.commit()
        stored = (await s.execute(text("select status, completed_at from todos where id = :id"), {"id": tid})).one()
        check(t.completed_at is None and tuple(stored) == ("in_progress", None), "reopened: completed_at cleared; status stored as its value 'in_progress'")

        plain = Table("todos", MetaData(), Column("user_id", UUID(as_uuid=True)), Column("title", Text),
                      Column("status", Enum(Status, native_enum=False, create_constraint=False)))
        written = insert(plain).values(user_id=alice_id, title="x", status=Status.IN_PROGRESS)
        check(await refused(s, "Enum without values_callable", written) == "status", "without values_callable the name IN_PROGRESS is written and refused (status)")

        t = await s.get(Todo, tid)
        t.title = "x" * 201
        check(await refused(s, "201-char title") == "title", "201-character title refused as title")

        bob = User(email=f"bob-{tag}@example.com", name="Bob")
        bobs = Category(user=bob, name="Bob's")
        s.add_all([bob, bobs])
        await s.commit()
        t = await s.get(Todo, tid)
        t.category = bobs
        check(await refused(s, "another user's category") == "category_id", "another user's category refused as category_id")
        owner = (await s.execute(text("select user_id from todos where id = :id"), {"id": tid})).scalar_one()
        check(owner == alice_id, "the todo stayed Alice's")

        home = Category(user_id=alice_id, name="Home")
        s.add(home)
        t = await s.get(Todo, tid)
        t.category = home
        await s.commit()
        await s.delete(home)
        await s.commit()
        row = (await s.execute(text("select user_id, category_id from todos where id = :id"), {"id": tid})).one()
        check(tuple(row) == (alice_id, None), "deleting a category through the ORM nulls category_id only")

        keep = Todo(user_id=alice_id, title="Keep")
        s.add(keep)
        t = await s.get(Todo, tid)
        t.deleted_at = func.now()
        await s.commit()
        live = [x.title for x in (await s.execute(live_todos(alice_id))).scalars()]
        check(live == ["Keep"], "soft-deleted todo left out of live_todos")

        await s.delete(await s.get(User, alice_id))
        await s.commit()
        left = (await s.execute(text("select count(*) from todos where user_id = :u"), {"u": alice_id})).scalar_one()
        check(left == 0, "deleting a user through the ORM (passive_deletes) lets the database cascade")


async def sqlmodel_snippet():
    try:
        import sqlmodel  # noqa: F401
    except ImportError:
        print("skipped: SQLModel is not installed, its snippet was not run")
        return
    exec(sqlmodel_block, ns)
    TodoRow = ns["TodoRow"]
    async with Session() as s:
        u = User(email=f"sqlmodel-{tag}@example.com")
        s.add(u)
        await s.commit()
        row = TodoRow(user_id=u.id, title="From SQLModel", status=Status.COMPLETED)
        s.add(row)
        await s.commit()
        await s.refresh(row)
        check(row.completed_at is not None and row.updated_at is not None, "SQLModel: completed without completed_at; the database filled it and updated_at")


async def automap_reflection():
    Auto = automap_base()
    async with engine.connect() as conn:
        await conn.run_sync(lambda c: Auto.prepare(autoload_with=c))
    T, C = Auto.classes.todos, Auto.classes.categories
    # SQLAlchemy 1.4 reflects uuid columns as strings (as_uuid=False), 2.0 as uuid.UUID
    key = (lambda u: u) if getattr(T.__table__.c.user_id.type, "as_uuid", True) else str
    async with Session() as s:
        carol = User(email=f"carol-{tag}@example.com")
        dave = User(email=f"dave-{tag}@example.com")
        s.add_all([carol, dave])
        await s.commit()
        daves, own = C(user_id=key(dave.id), name="Dave's"), C(user_id=key(carol.id), name="Own")
        todo = T(user_id=key(carol.id), title="Reflected")
        s.add_all([daves, own, todo])
        await s.commit()
        todo_id, carol_id, own_id = todo.id, carol.id, own.id
        todo.categories = daves
        check(await refused(s, "automap: another user's category") == "category_id", "automap: todo.categories = other user's category is refused")
        owner = (await s.execute(text("select user_id from todos where id = :id"), {"id": todo_id})).scalar_one()
        check(owner == carol_id, "automap: the todo did not move to the category's owner")
        todo = await s.get(T, todo_id)
        todo.categories = await s.get(C, own_id)
        await s.commit()
        await s.delete(await s.get(C, own_id))
        await s.commit()
        row = (await s.execute(text("select user_id, category_id from todos where id = :id"), {"id": todo_id})).one()
        check(tuple(row) == (carol_id, None), "automap: deleting the category through the ORM nulls category_id only")


async def without_passive_deletes():
    """The README's point about passive_deletes=True: a hand-written mapping without it nulls
    the user's todos' user_id before deleting the user, and the database refuses that.
    (automap sets passive_deletes itself for ON DELETE CASCADE keys.)"""
    from sqlalchemy.orm import declarative_base, relationship

    Plain = declarative_base()

    class PlainUser(Plain):
        __tablename__ = "users"
        id = Column(UUID(as_uuid=True), primary_key=True)
        email = Column(Text)
        todos = relationship("PlainTodo")

    class PlainTodo(Plain):
        __tablename__ = "todos"
        id = Column(UUID(as_uuid=True), primary_key=True)
        user_id = Column(UUID(as_uuid=True), ForeignKey("users.id"))
        title = Column(Text)

    async with Session() as s:
        uid = uuid.uuid4()
        s.add(PlainUser(id=uid, email=f"erin-{tag}@example.com", todos=[PlainTodo(id=uuid.uuid4(), title="t")]))
        await s.commit()
        await s.delete(await s.get(PlainUser, uid))
        try:
            await s.commit()
            check(False, "deleting a user without passive_deletes is refused")
        except IntegrityError as e:
            await s.rollback()
            check("not-null" in str(e.orig) and "user_id" in str(e.orig), "without passive_deletes, the ORM nulls todos.user_id first and the database refuses")


async def alembic_settings():
    captured = {}
    env = dict(ns, context=types.SimpleNamespace(configure=lambda **kw: captured.update(kw)), connection=None)
    exec(alembic_block, env)
    opts = {k: v for k, v in captured.items() if k not in ("connection", "target_metadata")}
    Table("app_notes", Base.metadata, Column("id", Integer, primary_key=True))  # a table the app would own

    async def diff(o):
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c, opts=o), captured["target_metadata"]))

    def name(op):
        op = op[0] if isinstance(op, list) else op
        obj = op[-1] if op[0] != "modify_nullable" else op[3]
        return f"{op[0]} {getattr(obj, 'name', obj)}"

    unfiltered = [name(op) for op in await diff({"compare_type": True})]
    print(f"  without include_object: {len(unfiltered)} operations: {', '.join(unfiltered)}")
    check("remove_table pgmigrations" in unfiltered, "without include_object, autogenerate proposes to drop pgmigrations")
    filtered = [name(op) for op in await diff(opts)]
    check(filtered == ["add_table app_notes"], f"with the README's include_object only the app's own table is proposed: {filtered}")


async def main():
    try:
        await mapped_models()
        await sqlmodel_snippet()
        await automap_reflection()
        await without_passive_deletes()
        await alembic_settings()
    finally:
        await engine.dispose()
    print(f"all snippets ran with SQLAlchemy {sqlalchemy.__version__}")


asyncio.run(main())
