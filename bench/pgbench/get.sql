\set id 2
SELECT id, completed, priority, title FROM tasks WHERE id = :id;
