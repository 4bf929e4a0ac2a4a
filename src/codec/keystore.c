/* keystore.c: placeholder until the module lands. */
typedef int rw_keystore_placeholder;
