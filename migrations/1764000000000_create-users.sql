-- Up Migration

-- Keeps updated_at true on every UPDATE, whoever runs it (the app, psql, a script).
create function todo_set_updated_at() returns trigger
language plpgsql as $$
begin
  new.updated_at := now();
  return new;
end
$$;

create table users (
  id         uuid primary key default gen_random_uuid(),
  email      text not null
             constraint users_email_format check (email ~ '^[^@[:space:]]+@[^@[:space:]]+$' and char_length(email) <= 320),
  name       text not null
             constraint users_name_not_blank check (name ~ '[^[:space:]]' and char_length(name) <= 200),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz
);

-- One account per address whatever its case: Alice@x.io and alice@x.io are the same person.
create unique index users_email_lower_key on users (lower(email));

create trigger users_set_updated_at before update on users
  for each row execute function todo_set_updated_at();

-- Down Migration

drop table users;
drop function todo_set_updated_at();
