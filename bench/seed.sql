-- The benchmarks' volume, on top of `anct-formations seed` (programmes, every commune of Petites
-- villes de demain and Action cœur de ville): 2,000 chefs de projet, 200 trainings, 2,000
-- sessions, 100,000 enrolments. Written straight in SQL for speed; the triggers (seat counts,
-- change feed) run as they would for the API, so the feed holds every row.
BEGIN;

CREATE TEMP TABLE bench_communes AS
SELECT id, row_number() OVER (ORDER BY insee_code) - 1 AS i
  FROM collectivites WHERE deleted_at IS NULL;

INSERT INTO chefs_de_projet (id, first_name, last_name, email, collectivite_id, status)
SELECT gen_random_uuid(), 'Camille' || n, 'Martin' || n, 'chef' || n || '@bench.anct.fr', c.id, 'active'
  FROM generate_series(0, 1999) n
  JOIN bench_communes c ON c.i = (n * 7) % (SELECT count(*) FROM bench_communes);

INSERT INTO chef_programmes (chef_de_projet_id, programme_id)
SELECT ch.id, cp.programme_id
  FROM chefs_de_projet ch
  JOIN collectivite_programmes cp ON cp.collectivite_id = ch.collectivite_id
 WHERE ch.email LIKE '%@bench.anct.fr';

CREATE TEMP TABLE bench_chefs AS
SELECT id, row_number() OVER (ORDER BY email) - 1 AS i
  FROM chefs_de_projet WHERE email LIKE '%@bench.anct.fr';

INSERT INTO trainings (id, code, title, summary, objectives, duration_hours, modality, provider, status)
SELECT gen_random_uuid(), 'BENCH-' || lpad(n::text, 3, '0'), 'Formation ' || n,
       'Méthodes et outils pour les chefs de projet.', 'Savoir conduire un projet de territoire.',
       14, (ARRAY['in_person', 'remote', 'hybrid'])[1 + n % 3], 'CNFPT', 'published'
  FROM generate_series(0, 199) n;

-- A third for Petites villes de demain, a third for Action cœur de ville, a third open to all.
INSERT INTO training_programmes (training_id, programme_id)
SELECT t.id, p.id
  FROM trainings t
  JOIN programmes p ON p.code = CASE substr(t.code, 7)::int % 3
                                     WHEN 0 THEN 'petites-villes-de-demain'
                                     WHEN 1 THEN 'action-coeur-de-ville' END
 WHERE t.code LIKE 'BENCH-%';

INSERT INTO sessions (id, training_id, starts_at, ends_at, remote, location_label, location_city,
                      location_insee_code, region_code, capacity, enrolment_opens_at,
                      enrolment_closes_at, requires_approval, status)
SELECT gen_random_uuid(), t.id,
       now() + make_interval(days => 20 + s), now() + make_interval(days => 21 + s),
       false, 'CNFPT Bretagne', 'Rennes', '35238', '53', 60,
       now() - interval '1 day', now() + make_interval(days => 10 + s), false, 'scheduled'
  FROM trainings t CROSS JOIN generate_series(0, 9) s
 WHERE t.code LIKE 'BENCH-%';

CREATE TEMP TABLE bench_sessions AS
SELECT s.id, row_number() OVER (ORDER BY s.starts_at, s.id) - 1 AS i
  FROM sessions s JOIN trainings t ON t.id = s.training_id WHERE t.code LIKE 'BENCH-%';

-- 50 different chefs de projet on each session, all confirmed.
INSERT INTO enrolments (id, session_id, chef_de_projet_id, status)
SELECT gen_random_uuid(), s.id, c.id, 'confirmed'
  FROM bench_sessions s
  CROSS JOIN generate_series(0, 49) k
  JOIN bench_chefs c ON c.i = (s.i * 50 + k) % 2000;

COMMIT;
ANALYZE;

-- Targets of the write scenarios: sessions of a training open to all, for three rounds of five
-- to take 10,000 enrolments by batch one batch at a time, and three of five to take them two
-- batches at a time, one to warm the batch path up; one of capacity 30 whose enrolments wait for
-- approval.
BEGIN;
INSERT INTO sessions (id, training_id, starts_at, ends_at, remote, location_label, location_city,
                      capacity, enrolment_opens_at, enrolment_closes_at, requires_approval, status)
SELECT gen_random_uuid(), t.id, now() + make_interval(days => 40 + s), now() + make_interval(days => 41 + s),
       false, CASE WHEN s < 15 THEN 'Bench batch ' || (s / 5 + 1)
                   WHEN s < 30 THEN 'Bench batch concurrent ' || ((s - 15) / 5 + 1)
                   ELSE 'Bench warm-up' END,
       'Rennes', 10000, now() - interval '1 day', now() + interval '30 days',
       false, 'scheduled'
  FROM trainings t CROSS JOIN generate_series(0, 30) s WHERE t.code = 'BENCH-002';
INSERT INTO sessions (id, training_id, starts_at, ends_at, remote, location_label, location_city,
                      capacity, enrolment_opens_at, enrolment_closes_at, requires_approval, status)
SELECT gen_random_uuid(), t.id, now() + interval '50 days', now() + interval '51 days',
       false, 'Bench approvals', 'Rennes', 30, now() - interval '1 day', now() + interval '30 days',
       true, 'scheduled'
  FROM trainings t WHERE t.code = 'BENCH-002';
-- 1,000 chefs de projet waiting for approval on it.
INSERT INTO enrolments (id, session_id, chef_de_projet_id, status)
SELECT gen_random_uuid(), s.id, c.id, 'pending_approval'
  FROM sessions s CROSS JOIN bench_chefs c
 WHERE s.location_label = 'Bench approvals' AND c.i < 1000;
COMMIT;
ANALYZE;
