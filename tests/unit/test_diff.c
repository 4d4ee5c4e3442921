/* Unit tests of analyzer/diff.c on hand-made reports: types merged by
 * name, growth candidates matched by address only within one process and
 * by a path only when it is unique in both, groups new/vanished/changed,
 * thresholds (strictly greater), the verdict of a report with itself. */
#include <string.h>

#include "../../analyzer/diff.h"
#include "check.h"

static struct pha_report_type t_old[] = {
	{.name = "app.Session", .count = 10, .bytes = 560},
	{.name = "dict", .count = 5, .bytes = 1000},
	{.name = "gone", .count = 1, .bytes = 16},
};
static struct pha_report_type t_new[] = {
	{.name = "app.Session", .count = 110, .bytes = 6160},
	{.name = "dict", .count = 5, .bytes = 1000},
	{.name = "fresh", .count = 2, .bytes = 64},
};

static struct pha_growth_candidate g_old[] = {
	{.addr = 0x1000, .type = "dict", .items = 10, .retained = 900, .path = "sys.modules['app'].__dict__['S']"},
	{.addr = 0x2000, .type = "list", .items = 5, .retained = 100, .path = "x.y"},
	{.addr = 0x3000, .type = "list", .items = 5, .retained = 100, .path = "dup"},
	{.addr = 0x4000, .type = "list", .items = 5, .retained = 100, .path = "dup"},
};
static struct pha_growth_candidate g_new[] = {
	{.addr = 0x1000, .type = "dict", .items = 110, .retained = 9900, .path = "sys.modules['app'].__dict__['S']"},
	{.addr = 0x2500, .type = "list", .items = 7, .retained = 140, .path = "x.y"},
	{.addr = 0x3000, .type = "list", .items = 9, .retained = 100, .path = "dup"},
	{.addr = 0x5000, .type = "set", .items = 50, .retained = 5000, .path = "new.set"},
};

static struct pha_report_group u_old[] = {
	{.signature = "A×2", .instances = 3, .objects = 6, .bytes = 300, .unreachable = true},
	{.signature = "B", .instances = 1, .objects = 1, .bytes = 50, .unreachable = true},
};
static struct pha_report_group u_new[] = {
	{.signature = "A×2", .instances = 5, .objects = 10, .bytes = 500, .unreachable = true},
	{.signature = "C×3", .instances = 1, .objects = 3, .bytes = 90, .unreachable = true},
};

static void make(struct pha_report *r, bool newer, int64_t pid)
{
	memset(r, 0, sizeof(*r));
	r->pid = pid;
	r->executable = "/usr/bin/python3";
	r->types = newer ? t_new : t_old;
	r->ntypes = 3;
	r->why.growth = newer ? g_new : g_old;
	r->why.ngrowth = 4;
	r->ugroups = newer ? u_new : u_old;
	r->nugroups = 2;
	r->summary.bytes = newer ? 20000 : 10000;
	r->summary.objects = newer ? 200 : 100;
}

static const struct pha_diff_growth *find(const struct pha_diff *d, const char *path)
{
	for (size_t i = 0; i < d->ngrowth; i++)
		if (!strcmp(d->growth[i].path, path))
			return &d->growth[i];
	return NULL;
}

int main(void)
{
	struct pha_report o, n;
	struct pha_diff *d;
	struct pha_diff_threshold lim[] = {{.kind = PHA_THRESHOLD_TYPE, .type = "app.Session",
					    .limit = 100}};
	struct pha_diff_options opts = {.fail_on_growth = true, .growth_limit = 9999,
					.type_limits = lim, .ntype_limits = 1};

	CASE_BEGIN("diff/same_process");
	make(&o, false, 42);
	make(&n, true, 42);
	CHECK(!pha_diff_build(&o, &n, &opts, &d));
	CHECK(d->same_process);
	CHECK(d->ntypes == 3 && !strcmp(d->types[0].name, "app.Session") &&
	      d->types[0].count_delta == 100 && d->types[0].bytes_delta == 5600);
	CHECK(d->types_unchanged == 1);
	const struct pha_diff_growth *g = find(d, "sys.modules['app'].__dict__['S']");
	CHECK(g && g->match == PHA_MATCH_ADDRESS && g->same_object && g->items_delta == 100);
	CHECK(d->ngrowth && d->growth[0].items_delta == 100);
	g = find(d, "x.y");	/* another address: matched by path */
	CHECK(g && g->match == PHA_MATCH_PATH && !g->same_object && g->items_delta == 2);
	g = find(d, "dup");	/* same address 0x3000 */
	CHECK(g && g->match == PHA_MATCH_ADDRESS && g->items_delta == 4);
	CHECK(d->nappeared == 1 && !strcmp(d->appeared[0].path, "new.set"));
	CHECK(d->unreachable.nappeared == 1 && !strcmp(d->unreachable.appeared[0].signature, "C×3"));
	CHECK(d->unreachable.nvanished == 1 && !strcmp(d->unreachable.vanished[0].signature, "B"));
	CHECK(d->unreachable.nchanged == 1 && d->unreachable.changed[0].instances_new == 5);
	CHECK(d->nthresholds == 2 && d->thresholds[0].exceeded && d->thresholds[0].value == 10000);
	CHECK(!d->thresholds[1].exceeded);	/* 100 is not more than 100 */
	CHECK(d->exceeded);
	pha_diff_destroy(d);
	CASE_END();

	CASE_BEGIN("diff/other_process");
	make(&o, false, 42);
	make(&n, true, 43);
	struct pha_diff_options none = {0};
	CHECK(!pha_diff_build(&o, &n, &none, &d));
	CHECK(!d->same_process);
	g = find(d, "sys.modules['app'].__dict__['S']");
	CHECK(g && g->match == PHA_MATCH_PATH && !g->same_object);
	CHECK(!find(d, "dup"));	/* "dup" is not unique in OLD: no match */
	CHECK(d->nappeared == 2);
	CHECK(!d->exceeded && d->nthresholds == 0);
	pha_diff_destroy(d);
	CASE_END();

	CASE_BEGIN("diff/self");
	make(&o, true, 42);
	CHECK(!pha_diff_build(&o, &o, &opts, &d));
	CHECK(d->ntypes == 0 && d->ngrowth == 0 && d->nappeared == 0 && !d->exceeded);
	CHECK(d->unreachable.nappeared + d->unreachable.nvanished + d->unreachable.nchanged == 0);
	CHECK(!strncmp(d->verdict, "No growth", 9));
	pha_diff_destroy(d);
	CASE_END();
	CHECK_EXIT();
}
