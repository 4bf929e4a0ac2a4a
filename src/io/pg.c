/* pg.c: placeholder until the module lands. */
typedef int rw_pg_placeholder;
