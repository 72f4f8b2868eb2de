/* Demo data loader (carefactd demo-data). */
#ifndef BE_DEMO_H
#define BE_DEMO_H

#include <stdint.h>
#include <stdio.h>

/* Load sql_dir/demo/demo_data.sql with tokens computed from key_hex (the region's
 * card-token key, 32..128 hex digits). Idempotent. Returns 0 or -1 (reason on log). */
int be_demo_data_load(const char *conninfo, const char *sql_dir, const char *key_hex, FILE *log);

/* The UID card of demo recipient n (n > 6): 04 D3 nn nn. */
void be_demo_uid(int n, uint8_t uid[4]);

#endif
