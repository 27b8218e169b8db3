-- Up Migration

-- What the app (FastAPI + SQLAlchemy/SQLModel) needs from the schema, found by driving it
-- against the first three migrations (issue 11). Those files are applied and never edited.

-- 1. A user signs up with an e-mail alone: the name is optional (still not blank when given).
alter table users alter column name drop not null;

-- 3. One rule per constraint, each named for what it checks, so the app can map a violation
-- (SQLSTATE 23514 and its constraint name) to a field. PostgreSQL reports the first failing CHECK
-- in name order, so a rule hidden inside another's name is reported under the wrong one.
alter table users drop constraint users_email_format;
alter table users add constraint users_email_format check (email ~ '^[^@[:space:]]+@[^@[:space:]]+$');
alter table users add constraint users_email_length check (char_length(email) <= 320);
alter table users drop constraint users_name_not_blank;
alter table users add constraint users_name_not_blank check (name ~ '[^[:space:]]');
alter table users add constraint users_name_length check (char_length(name) <= 200);

alter table categories drop constraint categories_name_not_blank;
alter table categories add constraint categories_name_not_blank check (name ~ '[^[:space:]]');
alter table categories add constraint categories_name_length check (char_length(name) <= 100);

alter table todos drop constraint todos_title_not_blank;
alter table todos add constraint todos_title_not_blank check (title ~ '[^[:space:]]');
alter table todos add constraint todos_title_length check (char_length(title) <= 200);

-- completed_at judges only the statuses it is about: an unknown status is todos_status_valid's
-- to report, not this rule's (it sorts first and used to take every invalid status).
alter table todos drop constraint todos_completed_at_matches_status;
alter table todos add constraint todos_completed_at_matches_status check (
  case status
    when 'completed' then completed_at is not null
    when 'pending' then completed_at is null
    when 'in_progress' then completed_at is null
    else true -- archived keeps whatever it had; anything else is todos_status_valid's
  end
);

-- 2. The database keeps completed_at as the status changes, as it keeps updated_at, so the app
-- writes only the status. It fills in what the statement left unsaid and nothing more: a value the
-- app wrote itself is kept, and a contradiction it wrote (pending with a completed_at) is still
-- refused by the CHECK above. The WHEN clauses keep the function off the path of every other row
-- (seed's COPY of completed todos carries its own completed_at and never calls it).
create function todo_keep_completed_at() returns trigger
language plpgsql as $$
begin
  if new.status = 'completed' and new.completed_at is null then
    new.completed_at := now();  -- entering completed (now(): the same instant as updated_at)
  elsif tg_op = 'UPDATE' and new.status in ('pending', 'in_progress')
        and new.completed_at is not distinct from old.completed_at then
    new.completed_at := null;   -- reopened (from completed or archived) without saying more
  end if;
  return new;
end
$$;

create trigger todos_completed_at_on_insert before insert on todos
  for each row when (new.status = 'completed' and new.completed_at is null)
  execute function todo_keep_completed_at();
create trigger todos_completed_at_on_status before update of status on todos
  for each row when (new.status is distinct from old.status)
  execute function todo_keep_completed_at();

-- 4. A todo's category belongs to the todo's user. Until now a composite foreign key
-- (user_id, category_id) -> categories (user_id, id) said so. Its ON DELETE SET NULL (category_id)
-- was right in the database, but an ORM that reflects the schema (SQLAlchemy automap) maps the
-- relationship over both columns and keeps both in sync: `todo.category = bobs_category` moved the
-- todo to Bob, and deleting a category through the ORM set todos.user_id to NULL. The ORM syncs
-- every column of a key it maps, whatever the key does ON DELETE (SET NULL (category_id) included),
-- so no composite key is safe from that; the key itself has to go. Now: a plain foreign key category_id -> categories (id), which any ORM maps to
-- category_id alone, and the same-owner rule in triggers, which no ORM maps at all:
--   - todos: after each INSERT and UPDATE statement, one join over the rows it wrote (transition
--     tables): set-based like a foreign key check, so a COPY of 300k todos costs one hash join.
--   - categories: the owner never changes, so the owner a todo was checked against stays true
--     with no lock and no race (a moved category would otherwise need row locks and still race
--     under REPEATABLE READ).
-- The errors carry a constraint name, as a real constraint's would: 23503 todos_category_same_user,
-- 23514 categories_user_id_fixed.
alter table todos drop constraint todos_category_same_user_fk;
alter table categories drop constraint categories_user_id_id_key;
alter table todos add constraint todos_category_id_fkey foreign key (category_id)
  references categories (id) on delete set null;
-- Serves that key when a category is deleted (the old index led with user_id, which this key
-- does not filter on); a user's todos in one category need nothing more, a category has one user.
drop index todos_user_category_idx;
create index todos_category_idx on todos (category_id) where category_id is not null;

create function todo_category_same_user() returns trigger
language plpgsql as $$
declare
  bad record;
begin
  select t.id, t.user_id, t.category_id, c.user_id as owner into bad
    from written t join categories c on c.id = t.category_id
   where c.user_id <> t.user_id
   limit 1;
  if found then
    raise exception 'todo % of user % cannot use category % of user %', bad.id, bad.user_id, bad.category_id, bad.owner
      using errcode = 'foreign_key_violation', constraint = 'todos_category_same_user',
            schema = tg_table_schema, table = tg_table_name, column = 'category_id',
            hint = 'a todo''s category must belong to the todo''s user';
  end if;
  return null;
end
$$;

-- PostgreSQL allows one event per trigger with transition tables, hence two.
create trigger todos_category_same_user_on_insert after insert on todos
  referencing new table as written
  for each statement execute function todo_category_same_user();
create trigger todos_category_same_user_on_update after update on todos
  referencing new table as written
  for each statement execute function todo_category_same_user();

create function category_user_id_fixed() returns trigger
language plpgsql as $$
begin
  raise exception 'category % belongs to user % and cannot move to user %', old.id, old.user_id, new.user_id
    using errcode = 'check_violation', constraint = 'categories_user_id_fixed',
          schema = tg_table_schema, table = tg_table_name, column = 'user_id',
          hint = 'create the category for the other user instead';
end
$$;

create trigger categories_user_id_fixed before update of user_id on categories
  for each row when (new.user_id is distinct from old.user_id)
  execute function category_user_id_fixed();

-- 5. Log-in finds a user with `where lower(email) = lower($1)`: users_email_lower_key (1764000000000)
-- is a unique index on lower(email), so that form is an index scan; `email = $1` is not, it scans.

-- Down Migration

-- Back to the schema of 1764000000002 exactly (pg_dump --schema-only compares equal), data kept.
-- A user without a name cannot go back: say so rather than invent names.
do $$
declare
  nameless bigint := (select count(*) from users where name is null);
begin
  if nameless > 0 then
    raise exception 'cannot revert: users.name was NOT NULL before this migration (users without a name: %)', nameless
      using errcode = 'not_null_violation', hint = 'give them a name first, e.g. update users set name = split_part(email, ''@'', 1) where name is null';
  end if;
end
$$;

drop trigger categories_user_id_fixed on categories;
drop function category_user_id_fixed();
drop trigger todos_category_same_user_on_update on todos;
drop trigger todos_category_same_user_on_insert on todos;
drop function todo_category_same_user();
drop index todos_category_idx;
create index todos_user_category_idx on todos (user_id, category_id) where category_id is not null;
alter table todos drop constraint todos_category_id_fkey;
alter table categories add constraint categories_user_id_id_key unique (user_id, id);
alter table todos add constraint todos_category_same_user_fk foreign key (user_id, category_id)
  references categories (user_id, id) on delete set null (category_id);

drop trigger todos_completed_at_on_status on todos;
drop trigger todos_completed_at_on_insert on todos;
drop function todo_keep_completed_at();

alter table todos drop constraint todos_completed_at_matches_status;
alter table todos add constraint todos_completed_at_matches_status check (
  (status = 'completed' and completed_at is not null)
  or (status in ('pending', 'in_progress') and completed_at is null)
  or status = 'archived'
);
alter table todos drop constraint todos_title_length;
alter table todos drop constraint todos_title_not_blank;
alter table todos add constraint todos_title_not_blank check (title ~ '[^[:space:]]' and char_length(title) <= 200);

alter table categories drop constraint categories_name_length;
alter table categories drop constraint categories_name_not_blank;
alter table categories add constraint categories_name_not_blank check (name ~ '[^[:space:]]' and char_length(name) <= 100);

alter table users drop constraint users_name_length;
alter table users drop constraint users_name_not_blank;
alter table users add constraint users_name_not_blank check (name ~ '[^[:space:]]' and char_length(name) <= 200);
alter table users drop constraint users_email_length;
alter table users drop constraint users_email_format;
alter table users add constraint users_email_format check (email ~ '^[^@[:space:]]+@[^@[:space:]]+$' and char_length(email) <= 320);

alter table users alter column name set not null;
