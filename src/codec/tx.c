/* tx.c: placeholder until the module lands. */
typedef int rw_tx_placeholder;
