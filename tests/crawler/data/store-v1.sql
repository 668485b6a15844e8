-- A crawl.db at schema version 1, written by mirrorwatch 0.1.0 (commit f13faf8) crawling one
-- branded page; `sqlite3 crawl.db .dump`. A dump leaves out application_id and user_version:
-- StoreTest.MigratesAVersion1Store sets them after loading it.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO meta VALUES('application','mirrorwatch');
INSERT INTO meta VALUES('created_at','2026-11-28T14:38:07.708Z');
INSERT INTO meta VALUES('created_by','mirrorwatch 0.1.0');
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  command TEXT NOT NULL,
  case_ref TEXT NOT NULL,
  version TEXT NOT NULL,
  config_json TEXT NOT NULL,
  signatures_path TEXT NOT NULL,
  signatures_sha256 TEXT NOT NULL,
  hostname TEXT NOT NULL,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  summary_json TEXT
);
INSERT INTO runs VALUES(1,'crawl','FIXTURE-V1','0.1.0','{"seed_urls":["http://v1.test/"],"seeds":"none","out":"out","resume":"none","case":"FIXTURE-V1","store":"sqlite","warc":"on","warc-file-size":"1073741824","commit-ms":"250","signatures":"sig.yaml","watch":"off","connect-to":"::127.0.0.1:18765","header":"none","user-agent":"mirrorwatch/0.1.0 (+https://mirrorwatch.invalid/contact)","max-pages":"100000","max-depth":"12","scope":"any","accept":"none","reject":"none","concurrency":"32","per-host":"4","workers":"0","connect-timeout-ms":"10000","timeout-ms":"30000","low-speed-bytes":"512","low-speed-s":"15","max-body":"8388608","max-redirects":"10","progress":"never","allow-net":"127.0.0.1/32","delay-ms":"0","politeness-key":"host","robots":"ignore","robots-ttl-s":"86400","max-crawl-delay-ms":"30000","sitemaps":"off","retries":"3","retry-base-ms":"1000","max-retry-after-s":"600","host-max-failures":"10","max-url-length":"2048","max-query-params":"20","max-pages-per-host":"10000","max-query-variants":"50","proxy":"none","insecure":"off"}','sig.yaml','5894e4d8eefb40228d632f1991c7734eec3e5d543575d32de2623111fd514d7d','vm','2026-11-28T14:38:07.706Z','2026-11-28T14:38:07.731Z','{"bytes":157,"errors":0,"errors_by_kind":{},"flagged_hosts":{"example":["v1.test"]},"flagged_pages":1,"hosts":1,"html_pages":2,"pages":2,"retries":0,"seconds":0.015017678,"skipped":0}');
CREATE TABLE run_warc_files (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL,
  file TEXT NOT NULL,
  warcinfo_id TEXT NOT NULL
);
INSERT INTO run_warc_files VALUES(1,1,'mirrorwatch-20261128143807-00000.warc.gz','<urn:uuid:98c272b3-8bd8-4d18-b4cc-4836b8a89f52>');
CREATE TABLE urls (
  id INTEGER PRIMARY KEY,
  url TEXT NOT NULL,
  host_key TEXT NOT NULL,
  depth INTEGER NOT NULL,
  via_id INTEGER NOT NULL,
  redirects INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  state INTEGER NOT NULL CHECK (state IN (0, 1, 2))  -- 0 queued, 1 done, 2 seen
);
INSERT INTO urls VALUES(1,'http://v1.test/','v1.test',0,0,0,0,1);
INSERT INTO urls VALUES(2,'http://v1.test/b.html','v1.test',1,1,0,0,1);
CREATE TABLE pages (
  id INTEGER PRIMARY KEY,
  url_id INTEGER NOT NULL,
  url TEXT NOT NULL,
  host TEXT NOT NULL,
  fetched_at TEXT,
  status INTEGER NOT NULL,
  error_kind TEXT,
  warc_file TEXT,
  warc_offset INTEGER,
  warc_length INTEGER,
  warc_record_id TEXT,
  warc_sha256 TEXT,
  json TEXT NOT NULL
);
INSERT INTO pages VALUES(1,1,'http://v1.test/','v1.test','2026-11-28T14:38:07.716Z',200,NULL,'mirrorwatch-20261128143807-00000.warc.gz',1684,641,'<urn:uuid:a95dd4a9-a58d-4fb0-9946-babbc9eb498d>','edc1279e8724dde1cfa7362019c4ac30f3e41e8663a37830d245e7b075004204','{"attempt":1,"bytes":91,"content_type":"text/html","depth":0,"error":null,"error_kind":null,"fetched_at":"2026-11-28T14:38:07.716Z","final_url":"http://v1.test/","ip":"127.0.0.1","kind":"page","seconds":0.007866,"status":200,"url":"http://v1.test/","warc":{"file":"mirrorwatch-20261128143807-00000.warc.gz","length":641,"offset":1684,"record_id":"<urn:uuid:a95dd4a9-a58d-4fb0-9946-babbc9eb498d>","sha256":"edc1279e8724dde1cfa7362019c4ac30f3e41e8663a37830d245e7b075004204"}}');
INSERT INTO pages VALUES(2,2,'http://v1.test/b.html','v1.test','2026-11-28T14:38:07.726Z',200,NULL,'mirrorwatch-20261128143807-00000.warc.gz',3647,627,'<urn:uuid:ded7c9bd-4dff-4e6c-a281-b31da7ef228d>','9f757e1edfc5be4ad4d6d5ac956435e5330a5bc8e966bb63ac2f4fb2f12ce8ce','{"attempt":1,"bytes":66,"content_type":"text/html","depth":1,"error":null,"error_kind":null,"fetched_at":"2026-11-28T14:38:07.726Z","final_url":"http://v1.test/b.html","ip":"127.0.0.1","kind":"page","seconds":0.003618,"status":200,"url":"http://v1.test/b.html","via":"http://v1.test/","warc":{"file":"mirrorwatch-20261128143807-00000.warc.gz","length":627,"offset":3647,"record_id":"<urn:uuid:ded7c9bd-4dff-4e6c-a281-b31da7ef228d>","sha256":"9f757e1edfc5be4ad4d6d5ac956435e5330a5bc8e966bb63ac2f4fb2f12ce8ce"}}');
CREATE TABLE findings (
  id INTEGER PRIMARY KEY,
  url_id INTEGER NOT NULL,
  url TEXT NOT NULL,
  final_url TEXT NOT NULL,
  host TEXT NOT NULL,
  outlet TEXT NOT NULL,
  score REAL NOT NULL,
  fetched_at TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  warc_file TEXT,
  warc_offset INTEGER,
  warc_length INTEGER,
  warc_record_id TEXT,
  warc_sha256 TEXT,
  meta_file TEXT,
  meta_offset INTEGER,
  meta_length INTEGER,
  meta_record_id TEXT,
  meta_sha256 TEXT,
  json TEXT NOT NULL
);
INSERT INTO findings VALUES(1,1,'http://v1.test/','http://v1.test/','v1.test','example',5.0,'2026-11-28T14:38:07.716Z','edc1279e8724dde1cfa7362019c4ac30f3e41e8663a37830d245e7b075004204','mirrorwatch-20261128143807-00000.warc.gz',1684,641,'<urn:uuid:a95dd4a9-a58d-4fb0-9946-babbc9eb498d>','edc1279e8724dde1cfa7362019c4ac30f3e41e8663a37830d245e7b075004204','mirrorwatch-20261128143807-00000.warc.gz',2325,736,'<urn:uuid:b7676537-fcc2-450a-b686-af46f06d283b>','a16f998bc3d2c31509902ebfa047eedc0da612a9c0cc08c21088725424230aa9','{"depth":0,"fetched_at":"2026-11-28T14:38:07.716Z","final_url":"http://v1.test/","host":"v1.test","ip":"127.0.0.1","outlet":"example","rules":[{"count":1,"experimental":false,"field":"title","id":"example.title","match":"Example Agency","snippet":"Example Agency","weight":5.0}],"score":5.0,"sha256":"edc1279e8724dde1cfa7362019c4ac30f3e41e8663a37830d245e7b075004204","signatures_sha256":"5894e4d8eefb40228d632f1991c7734eec3e5d543575d32de2623111fd514d7d","stable_score":5.0,"status":200,"threshold":5.0,"url":"http://v1.test/","via":"","warc":{"file":"mirrorwatch-20261128143807-00000.warc.gz","length":641,"offset":1684,"record_id":"<urn:uuid:a95dd4a9-a58d-4fb0-9946-babbc9eb498d>","sha256":"edc1279e8724dde1cfa7362019c4ac30f3e41e8663a37830d245e7b075004204"}}');
CREATE TABLE host_ips (
  host TEXT NOT NULL,
  ip TEXT NOT NULL,
  first_seen TEXT NOT NULL,
  last_seen TEXT NOT NULL,
  PRIMARY KEY (host, ip)
) WITHOUT ROWID;
INSERT INTO host_ips VALUES('v1.test','127.0.0.1','2026-11-28T14:38:07.716Z','2026-11-28T14:38:07.716Z');
CREATE TABLE host_info (
  host TEXT PRIMARY KEY,
  seen_at TEXT NOT NULL,
  server TEXT,
  cert_json TEXT,
  cert_seen_at TEXT
) WITHOUT ROWID;
INSERT INTO host_info VALUES('v1.test','2026-11-28T14:38:07.716Z','SimpleHTTP/0.6 Python/3.11.7',NULL,NULL);
CREATE TABLE links (
  to_host TEXT NOT NULL,
  from_url_id INTEGER NOT NULL,
  PRIMARY KEY (to_host, from_url_id)
) WITHOUT ROWID;
CREATE TABLE checks (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL,
  host TEXT NOT NULL,
  url TEXT NOT NULL,
  checked_at TEXT NOT NULL,
  status INTEGER NOT NULL,
  error_kind TEXT,
  outcome TEXT NOT NULL CHECK (outcome IN ('live', 'changed', 'gone', 'error')),
  etag TEXT,
  last_modified TEXT,
  warc_file TEXT,
  warc_offset INTEGER,
  warc_length INTEGER,
  warc_record_id TEXT,
  warc_sha256 TEXT,
  detail_json TEXT
);
CREATE TABLE host_status (
  host TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('flagged', 'live', 'changed', 'gone')),
  since TEXT,
  consecutive_gone INTEGER NOT NULL,
  gone_at TEXT,
  last_checked TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX run_warc_files_run ON run_warc_files (run_id, id);
CREATE INDEX urls_queued ON urls (host_key, id) WHERE state = 0;
CREATE INDEX pages_host ON pages (host);
CREATE INDEX pages_url_id ON pages (url_id);
CREATE INDEX findings_host ON findings (host, final_url);
CREATE VIEW flagged_hosts AS
  SELECT host,
         group_concat(DISTINCT outlet) AS outlets,
         min(fetched_at) AS first_seen,
         max(fetched_at) AS last_seen,
         count(DISTINCT final_url) AS flagged_pages,
         max(score) AS best_score
  FROM findings GROUP BY host;
CREATE INDEX checks_host ON checks (host, run_id);
CREATE INDEX checks_url ON checks (url, id);
COMMIT;
