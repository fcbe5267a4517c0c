/* The global counters and their log dump (SIGUSR1, exit): one line per
 * counter, name, value and what it counts. */
#include <inttypes.h>

#include "log.h"
#include "stats.h"

struct stats stats;

void stats_log(void)
{
#define STATS_LOG(name, text) \
	info("stats: %-22s %12" PRIu64 "  %s", #name, stats.name, text);
	STATS_COUNTERS(STATS_LOG)
#undef STATS_LOG
}
