/* rpc.c: placeholder until the module lands. */
typedef int rw_rpc_placeholder;
