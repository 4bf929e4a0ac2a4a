/* migrate.c: placeholder until the module lands. */
typedef int rw_migrate_placeholder;
