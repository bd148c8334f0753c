/**
 * The Nix database schema (Nix's src/libstore/schema.sql) as every Nix from 2016 (when ValidPaths
 * got its last column, ca) to March 2026 creates it; Debian's Nix 2.8 is the judge in the tests.
 * SQLite keeps each CREATE statement's text in sqlite_master, comments inside it included, so the
 * text below is part of the file format: `.schema` of our database reads exactly as that of one
 * Nix created. Nix since March 2026 creates no IndexReferrer (the primary key covers it) and, when
 * it first opens an older database read-write, drops it and records that in a SchemaMigrations table.
 */
export const NIX_SCHEMA: readonly string[] = [
  `create table ValidPaths (
    id               integer primary key autoincrement not null,
    path             text unique not null,
    hash             text not null,
    registrationTime integer not null,
    deriver          text,
    narSize          integer,
    ultimate         integer, -- null implies "false"
    sigs             text, -- space-separated
    ca               text -- if not null, an assertion that the path is content-addressed; see ValidPathInfo
)`,
  `create table Refs (
    referrer  integer not null,
    reference integer not null,
    primary key (referrer, reference),
    foreign key (referrer) references ValidPaths(id) on delete cascade,
    foreign key (reference) references ValidPaths(id) on delete restrict
)`,
  `create index IndexReferrer on Refs(referrer)`,
  `create index IndexReference on Refs(reference)`,
  `create trigger DeleteSelfRefs before delete on ValidPaths
  begin
    delete from Refs where referrer = old.id and reference = old.id;
  end`,
  `create table DerivationOutputs (
    drv  integer not null,
    id   text not null, -- symbolic output id, usually "out"
    path text not null,
    primary key (drv, id),
    foreign key (drv) references ValidPaths(id) on delete cascade
)`,
  `create index IndexDerivationOutputs on DerivationOutputs(path)`,
];

/**
 * Nix's nixSchemaVersion (10 since Nix 2.0, still 10 in 2026): the text of /nix/var/nix/db/schema,
 * written without a newline. Nix refuses a higher number and migrates a lower one.
 */
export const NIX_SCHEMA_VERSION = 10;

export function schemaFileText(): string {
  return String(NIX_SCHEMA_VERSION);
}
