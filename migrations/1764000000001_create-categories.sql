-- Up Migration

create table categories (
  id         uuid primary key default gen_random_uuid(),
  user_id    uuid not null references users (id) on delete cascade,
  name       text not null
             constraint categories_name_not_blank check (name ~ '[^[:space:]]' and char_length(name) <= 100),
  color      text constraint categories_color_hex check (color ~ '^#[0-9A-Fa-f]{6}$'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Target of todos' composite foreign key: a todo's category must be its owner's.
  constraint categories_user_id_id_key unique (user_id, id)
);

-- "Work" and "work" are the same category for one user; other users may have their own.
create unique index categories_user_name_key on categories (user_id, lower(name));

create trigger categories_set_updated_at before update on categories
  for each row execute function todo_set_updated_at();

-- Down Migration

drop table categories;
