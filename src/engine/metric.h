/* metric.h: the Prometheus text format's shared pieces, for the engines'
 * metrics (indexer, relayer, scheduler). */
#ifndef RW_METRIC_H
#define RW_METRIC_H

struct rw_buf;

/* Appends the "# HELP name help" and "# TYPE name type" lines of a metric
 * when header is nonzero; nothing otherwise. Returns 0 or the buffer's
 * error (RW_ETOOBIG, RW_ENOMEM). */
int rw_metric_head(struct rw_buf *b, int header, const char *name, const char *type,
		   const char *help);

#endif
