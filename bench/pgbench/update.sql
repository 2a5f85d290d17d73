\set id random(1, 1000)
UPDATE tasks SET title = COALESCE('bench task', title), priority = COALESCE(1, priority), completed = COALESCE(false, completed) WHERE id = :id RETURNING id, completed, priority, title;
