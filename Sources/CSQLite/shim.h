#ifndef CSQLITE_SHIM_H
#define CSQLITE_SHIM_H

#include <sqlite3.h>

/// Swift cannot call C variadic functions; these wrap the ones the wrapper needs.
static inline int csqlite_db_config_enable_fkey(sqlite3 *db, int enable, int *result) {
    return sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_FKEY, enable, result);
}

static inline int csqlite_db_config_defensive(sqlite3 *db, int enable, int *result) {
    return sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, enable, result);
}

#endif
