\set priority 1
INSERT INTO tasks (completed, priority, title) VALUES (false, :priority, 'bench task') RETURNING id, completed, priority, title;
