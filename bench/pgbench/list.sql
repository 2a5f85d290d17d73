SELECT id, completed, priority, title FROM tasks ORDER BY priority, id;
