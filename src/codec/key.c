/* key.c: placeholder until the module lands. */
#include "key.h"

int rw_key_init(void)
{
	return 0;
}

void rw_key_cleanup(void)
{
}
