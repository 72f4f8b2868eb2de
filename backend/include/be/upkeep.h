/* The upkeep of a serving carefactd (see upkeep.c): what the database needs done while
 * no request asks for it. */
#ifndef BE_UPKEEP_H
#define BE_UPKEEP_H

/* One pass on the upkeep's own connection to conninfo: the month partitions of events
 * ahead, then every queued integrity judgement. Called by be_serve at start and every
 * BE_UPKEEP_PERIOD_S seconds after; a failure is logged and the next pass tries again. */
void be_upkeep_pass(const char *conninfo);

/* Close the upkeep's connection (at exit). */
void be_upkeep_close(void);

#define BE_UPKEEP_PERIOD_S 5

#endif
