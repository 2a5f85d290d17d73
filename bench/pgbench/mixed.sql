\set r random(1, 100)
\set id random(1, 3)
\if :r <= 10
\if :id = 1
UPDATE tasks SET title = COALESCE('1st Task', title), priority = COALESCE(0, priority), completed = COALESCE(false, completed) WHERE id = :id RETURNING id, completed, priority, title;
\elif :id = 2
UPDATE tasks SET title = COALESCE('2nd Task', title), priority = COALESCE(0, priority), completed = COALESCE(false, completed) WHERE id = :id RETURNING id, completed, priority, title;
\else
UPDATE tasks SET title = COALESCE('3rd Task', title), priority = COALESCE(0, priority), completed = COALESCE(false, completed) WHERE id = :id RETURNING id, completed, priority, title;
\endif
\else
SELECT id, completed, priority, title FROM tasks ORDER BY priority, id;
\endif
