/* Built-in prototypes for well-known C functions of stripped libraries and programs (libpq,
 * libc, the PostgreSQL server's query path), used when a function has no DWARF: without them
 * only raw registers could be shown. Facts from the public headers (libpq-fe.h, POSIX,
 * PostgreSQL's tcop/tcopprot.h and tcop/pquery.h); sorted by name (strcmp) for bsearch. */
#include <stdlib.h>
#include <string.h>

#include "stub/tracer/internal.h"

#define P(n)                                                                                       \
	{                                                                                          \
		n, DWT_PTR                                                                         \
	}
#define S(n)                                                                                       \
	{                                                                                          \
		n, DWT_CSTR                                                                        \
	}
#define I(n)                                                                                       \
	{                                                                                          \
		n, DWT_INT                                                                         \
	}
#define U(n)                                                                                       \
	{                                                                                          \
		n, DWT_UINT                                                                        \
	}

static const struct tproto protos[] = {
	{"PQbackendPID", DWT_INT, 1, {P("conn")}},
	{"PQclear", DWT_NONE, 1, {P("res")}},
	{"PQcmdStatus", DWT_CSTR, 1, {P("res")}},
	{"PQcmdTuples", DWT_CSTR, 1, {P("res")}},
	{"PQconnectPoll", DWT_INT, 1, {P("conn")}},
	{"PQconnectStart", DWT_PTR, 1, {S("conninfo")}},
	{"PQconnectStartParams", DWT_PTR, 3, {P("keywords"), P("values"), I("expand_dbname")}},
	{"PQconnectdb", DWT_PTR, 1, {S("conninfo")}},
	{"PQconnectdbParams", DWT_PTR, 3, {P("keywords"), P("values"), I("expand_dbname")}},
	{"PQconsumeInput", DWT_INT, 1, {P("conn")}},
	{"PQdb", DWT_CSTR, 1, {P("conn")}},
	{"PQenterPipelineMode", DWT_INT, 1, {P("conn")}},
	{"PQerrorMessage", DWT_CSTR, 1, {P("conn")}},
	{"PQescapeIdentifier", DWT_CSTR, 3, {P("conn"), S("str"), U("len")}},
	{"PQescapeLiteral", DWT_CSTR, 3, {P("conn"), S("str"), U("len")}},
	{"PQexec", DWT_PTR, 2, {P("conn"), S("query")}},
	{"PQexecParams",
	 DWT_PTR,
	 8,
	 {P("conn"), S("command"), I("nParams"), P("paramTypes"), P("paramValues"),
	  P("paramLengths"), P("paramFormats"), I("resultFormat")}},
	{"PQexecPrepared",
	 DWT_PTR,
	 7,
	 {P("conn"), S("stmtName"), I("nParams"), P("paramValues"), P("paramLengths"),
	  P("paramFormats"), I("resultFormat")}},
	{"PQexitPipelineMode", DWT_INT, 1, {P("conn")}},
	{"PQfinish", DWT_NONE, 1, {P("conn")}},
	{"PQflush", DWT_INT, 1, {P("conn")}},
	{"PQfname", DWT_CSTR, 2, {P("res"), I("field_num")}},
	{"PQfnumber", DWT_INT, 2, {P("res"), S("field_name")}},
	{"PQfreemem", DWT_NONE, 1, {P("ptr")}},
	{"PQftype", DWT_UINT, 2, {P("res"), I("field_num")}},
	{"PQgetCopyData", DWT_INT, 3, {P("conn"), P("buffer"), I("async")}},
	{"PQgetResult", DWT_PTR, 1, {P("conn")}},
	{"PQgetisnull", DWT_INT, 3, {P("res"), I("tup_num"), I("field_num")}},
	{"PQgetlength", DWT_INT, 3, {P("res"), I("tup_num"), I("field_num")}},
	{"PQgetvalue", DWT_CSTR, 3, {P("res"), I("tup_num"), I("field_num")}},
	{"PQhost", DWT_CSTR, 1, {P("conn")}},
	{"PQisBusy", DWT_INT, 1, {P("conn")}},
	{"PQmakeEmptyPGresult", DWT_PTR, 2, {P("conn"), I("status")}},
	{"PQnfields", DWT_INT, 1, {P("res")}},
	{"PQnotifies", DWT_PTR, 1, {P("conn")}},
	{"PQntuples", DWT_INT, 1, {P("res")}},
	{"PQparameterStatus", DWT_CSTR, 2, {P("conn"), S("paramName")}},
	{"PQping", DWT_INT, 1, {S("conninfo")}},
	{"PQpipelineSync", DWT_INT, 1, {P("conn")}},
	{"PQport", DWT_CSTR, 1, {P("conn")}},
	{"PQprepare",
	 DWT_PTR,
	 5,
	 {P("conn"), S("stmtName"), S("query"), I("nParams"), P("paramTypes")}},
	{"PQputCopyData", DWT_INT, 3, {P("conn"), P("buffer"), I("nbytes")}},
	{"PQputCopyEnd", DWT_INT, 2, {P("conn"), S("errormsg")}},
	{"PQreset", DWT_NONE, 1, {P("conn")}},
	{"PQresultErrorMessage", DWT_CSTR, 1, {P("res")}},
	{"PQresultStatus", DWT_INT, 1, {P("res")}},
	{"PQsendPrepare",
	 DWT_INT,
	 5,
	 {P("conn"), S("stmtName"), S("query"), I("nParams"), P("paramTypes")}},
	{"PQsendQuery", DWT_INT, 2, {P("conn"), S("query")}},
	{"PQsendQueryParams",
	 DWT_INT,
	 8,
	 {P("conn"), S("command"), I("nParams"), P("paramTypes"), P("paramValues"),
	  P("paramLengths"), P("paramFormats"), I("resultFormat")}},
	{"PQsendQueryPrepared",
	 DWT_INT,
	 7,
	 {P("conn"), S("stmtName"), I("nParams"), P("paramValues"), P("paramLengths"),
	  P("paramFormats"), I("resultFormat")}},
	{"PQserverVersion", DWT_INT, 1, {P("conn")}},
	{"PQsetClientEncoding", DWT_INT, 2, {P("conn"), S("encoding")}},
	{"PQsetnonblocking", DWT_INT, 2, {P("conn"), I("arg")}},
	{"PQsocket", DWT_INT, 1, {P("conn")}},
	{"PQstatus", DWT_INT, 1, {P("conn")}},
	{"PQtransactionStatus", DWT_INT, 1, {P("conn")}},
	{"PQuser", DWT_CSTR, 1, {P("conn")}},
	{"PortalRun",
	 DWT_BOOL,
	 7,
	 {P("portal"), I("count"), I("isTopLevel"), I("run_once"), P("dest"), P("altdest"),
	  P("qc")}},
	{"calloc", DWT_PTR, 2, {U("nmemb"), U("size")}},
	{"close", DWT_INT, 1, {I("fd")}},
	{"connect", DWT_INT, 3, {I("sockfd"), P("addr"), U("addrlen")}},
	{"dlopen", DWT_PTR, 2, {S("filename"), I("flags")}},
	{"dlsym", DWT_PTR, 2, {P("handle"), S("symbol")}},
	{"exec_simple_query", DWT_NONE, 1, {S("query_string")}},
	{"execve", DWT_INT, 3, {S("pathname"), P("argv"), P("envp")}},
	{"fopen", DWT_PTR, 2, {S("pathname"), S("mode")}},
	{"free", DWT_NONE, 1, {P("ptr")}},
	{"getenv", DWT_CSTR, 1, {S("name")}},
	{"malloc", DWT_PTR, 1, {U("size")}},
	{"open", DWT_INT, 3, {S("pathname"), I("flags"), U("mode")}},
	{"openat", DWT_INT, 4, {I("dirfd"), S("pathname"), I("flags"), U("mode")}},
	{"pg_parse_query", DWT_PTR, 1, {S("query_string")}},
	{"puts", DWT_INT, 1, {S("s")}},
	{"read", DWT_INT, 3, {I("fd"), P("buf"), U("count")}},
	{"realloc", DWT_PTR, 2, {P("ptr"), U("size")}},
	{"strlen", DWT_UINT, 1, {S("s")}},
	{"system", DWT_INT, 1, {S("command")}},
	{"unlink", DWT_INT, 1, {S("pathname")}},
	{"write", DWT_INT, 3, {I("fd"), P("buf"), U("count")}},
};

static int cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct tproto *)elem)->name);
}

const struct tproto *trace_proto_find(const char *name)
{
	return bsearch(name, protos, sizeof(protos) / sizeof(protos[0]), sizeof(protos[0]), cmp);
}

const struct tproto *trace_proto_at(size_t i)
{
	return i < sizeof(protos) / sizeof(protos[0]) ? &protos[i] : NULL;
}
