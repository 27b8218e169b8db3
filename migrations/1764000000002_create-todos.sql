-- Up Migration

-- status is text with a CHECK rather than an enum: a new status is one constraint swap,
-- not an ALTER TYPE that cannot run inside a transaction on older servers.
-- priority: 0 none, 1 low, 2 medium, 3 high.
create table todos (
  id           uuid primary key default gen_random_uuid(),
  user_id      uuid not null references users (id) on delete cascade,
  category_id  uuid,
  title        text not null
               constraint todos_title_not_blank check (title ~ '[^[:space:]]' and char_length(title) <= 200),
  description  text constraint todos_description_length check (char_length(description) <= 5000),
  status       text not null default 'pending'
               constraint todos_status_valid check (status in ('pending', 'in_progress', 'completed', 'archived')),
  priority     smallint not null default 0
               constraint todos_priority_range check (priority between 0 and 3),
  due_date     date,
  completed_at timestamptz,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  deleted_at   timestamptz,
  -- The category must belong to the same user. A composite foreign key cannot be bypassed the
  -- way a trigger can; deleting a category leaves its todos uncategorised.
  constraint todos_category_same_user_fk foreign key (user_id, category_id)
    references categories (user_id, id) on delete set null (category_id),
  -- completed means completed_at is set; pending and in_progress mean it is not;
  -- an archived todo keeps whatever it had.
  constraint todos_completed_at_matches_status check (
    (status = 'completed' and completed_at is not null)
    or (status in ('pending', 'in_progress') and completed_at is null)
    or status = 'archived'
  )
);

-- The app's queries: a user's live todos by status, by due date, newest first.
create index todos_user_status_idx on todos (user_id, status) where deleted_at is null;
create index todos_user_due_date_idx on todos (user_id, due_date) where deleted_at is null and due_date is not null;
-- Not partial: it also serves ON DELETE CASCADE from users, which must find soft-deleted todos
-- too; without an index that covers every row, deleting one user scans the whole table.
create index todos_user_created_at_idx on todos (user_id, created_at desc);
-- Serves the composite foreign key when a category is deleted.
create index todos_user_category_idx on todos (user_id, category_id) where category_id is not null;

create trigger todos_set_updated_at before update on todos
  for each row execute function todo_set_updated_at();

-- Down Migration

drop table todos;
