\set id random(1, 1000)
SELECT id, email, country FROM public.users WHERE id = :id;
