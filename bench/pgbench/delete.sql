\set id 1 + :client_id + :n * :clients
\set n :n + 1
DELETE FROM tasks WHERE id = :id;
