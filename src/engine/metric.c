/* metric.c: the Prometheus text format's shared pieces (metric.h). */
#include "metric.h"

#include "buf.h"

int rw_metric_head(struct rw_buf *b, int header, const char *name, const char *type,
		   const char *help)
{
	if (!header)
		return 0;
	int r = rw_buf_appendf(b, "# HELP %s %s\n", name, help);
	return r ? r : rw_buf_appendf(b, "# TYPE %s %s\n", name, type);
}
