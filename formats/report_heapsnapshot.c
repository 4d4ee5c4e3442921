/* The heap graph as a Chrome DevTools heap snapshot (.heapsnapshot, the
 * JSON that V8, Node, Bun and Julia write and DevTools' Memory panel
 * loads): one node per object, one edge per reference, and synthetic
 * roots so that every object hangs below DevTools' root.
 *
 * Nodes, in this order (DevTools takes node 0 as the root):
 *   0            the root (synthetic), one element edge to each of:
 *   1..3         "(Python roots)": the interpreter's roots (the source's);
 *                "(held from outside Python)": objects with more
 *                references than the heap explains (refcount above the
 *                strong references found) that no earlier root reaches,
 *                in address order, each only if still unreached;
 *                "(not reached from any root)": the first object of each
 *                part still unreached, in address order (garbage);
 *   4 + id       the heap's objects in id (address) order.
 * So every object is reachable from node 0 through strong edges, and
 * DevTools' total (the root's retained size) is the sum of the shallow
 * sizes: the report's summary.bytes.
 *
 * A node: type ("string" for str, "number" for int and float, "object"
 * otherwise, so that the Summary view groups objects by Python type
 * name), name = the type's report name, id = 2 * node index + 1 (odd, as
 * V8's heap object ids), self_size = sys.getsizeof (clamped to 2^32 - 1:
 * DevTools keeps sizes in 32 bits), edge_count, trace_node_id 0,
 * detachedness 0. An edge: "element" with its position among the
 * object's references (what tp_traverse visits, in its order), "weak"
 * for weakref referents. Edge names ('.attr', "['key']") would need the
 * core's layout for every edge; they are left out.
 *
 * Streamed: the nodes and then the edges are written straight from the
 * heap's CSR arrays. The scratch is 13 bytes an object at most (marks,
 * a BFS queue, in-reference counts, the synthetic roots' children), all
 * freed before returning. */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "report_write.h"

enum { HS_ROOTS, HS_OUTSIDE, HS_UNREACHED, HS_NSYN };
#define HS_FIRST_OBJ (1 + HS_NSYN)
#define HS_NODE_FIELDS 7
enum { HS_TYPE_HIDDEN = 0, HS_TYPE_STRING = 2, HS_TYPE_OBJECT = 3, HS_TYPE_NUMBER = 7,
       HS_TYPE_SYNTHETIC = 9 };
enum { HS_EDGE_ELEMENT = 1, HS_EDGE_WEAK = 6 };

static const char *const syn_names[HS_NSYN] = {
	"(Python roots)", "(held from outside Python)", "(not reached from any root)",
};

struct hs {
	const struct pha_heap *h;
	struct pha_out *out;
	uint8_t *mark;		/* per object: reached */
	uint32_t *queue;
	uint32_t *heads;	/* children of the synthetic roots, one class after the other */
	size_t nheads[HS_NSYN];
	size_t total_heads;
	uint32_t *name_of;	/* per heap type: index in the strings table */
	uint8_t *node_type;	/* per heap type */
	const char **strings;	/* "", the synthetic names, the unique type names */
	size_t nstrings;
};

/* Mark everything v reaches through strong references. */
static void reach(struct hs *s, uint32_t v)
{
	const struct pha_heap *h = s->h;
	size_t head = 0, tail = 0;
	s->mark[v] = 1;
	s->queue[tail++] = v;
	while (head < tail) {
		uint32_t u = s->queue[head++];
		for (uint32_t e = h->first[u]; e < h->first[u + 1]; e++) {
			uint32_t d = h->dst[e];
			if (!(h->eflags[e] & PHA_EDGE_WEAK) && !s->mark[d]) {
				s->mark[d] = 1;
				s->queue[tail++] = d;
			}
		}
	}
}

static void add_head(struct hs *s, int cls, uint32_t v)
{
	s->heads[s->total_heads++] = v;
	s->nheads[cls]++;
	reach(s, v);
}

/* The three classes of synthetic roots' children (see the top). */
static struct pha_error *plan_roots(struct hs *s, const struct pha_source *src)
{
	const struct pha_heap *h = s->h;
	for (size_t i = 0; i < src->nroots; i++) {
		uint32_t v = pha_heap_find(h, src->roots[i]);
		if (v != PHA_NO_ID && !s->mark[v])
			add_head(s, HS_ROOTS, v);
	}
	uint32_t *indeg = calloc(h->n ? h->n : 1, sizeof(*indeg));
	if (!indeg)
		return &pha_enomem;
	for (uint64_t e = 0; e < h->nedges; e++)
		if (!(h->eflags[e] & PHA_EDGE_WEAK))
			indeg[h->dst[e]]++;
	for (uint32_t v = 0; v < h->n; v++)
		if (!s->mark[v] && pha_heap_refcnt(h, v) > indeg[v])
			add_head(s, HS_OUTSIDE, v);
	free(indeg);
	for (uint32_t v = 0; v < h->n; v++)
		if (!s->mark[v])
			add_head(s, HS_UNREACHED, v);
	return NULL;
}

static int cmp_name(const void *a, const void *b, void *arg)
{
	const struct pha_heap_type *t = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = strcmp(t[x].name ? t[x].name : "", t[y].name ? t[y].name : "");
	return c ? c : (x > y) - (x < y);
}

static uint8_t node_type_of(const char *name)
{
	static const char *const numbers[] = {"int", "float", "bool", "complex"};
	if (!strcmp(name, "str"))
		return HS_TYPE_STRING;
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
		if (!strcmp(name, numbers[i]))
			return HS_TYPE_NUMBER;
	return HS_TYPE_OBJECT;
}

/* The strings table: "", the synthetic names, then each distinct type
 * name once (DevTools groups the Summary by name index), in name order. */
static struct pha_error *plan_strings(struct hs *s)
{
	const struct pha_heap *h = s->h;
	uint32_t nt = h->ntypes;
	uint32_t *order = malloc((nt ? nt : 1) * sizeof(*order));
	s->name_of = malloc((nt ? nt : 1) * sizeof(*s->name_of));
	s->node_type = malloc(nt ? nt : 1);
	s->strings = malloc((1 + HS_NSYN + nt) * sizeof(*s->strings));
	if (!order || !s->name_of || !s->node_type || !s->strings) {
		free(order);
		return &pha_enomem;
	}
	s->strings[s->nstrings++] = "";
	for (int i = 0; i < HS_NSYN; i++)
		s->strings[s->nstrings++] = syn_names[i];
	for (uint32_t t = 0; t < nt; t++)
		order[t] = t;
	qsort_r(order, nt, sizeof(*order), cmp_name, h->types);
	for (uint32_t i = 0; i < nt; i++) {
		uint32_t t = order[i];
		const char *name = h->types[t].name ? h->types[t].name : "?";
		if (!i || strcmp(name, s->strings[s->nstrings - 1]))
			s->strings[s->nstrings++] = name;
		s->name_of[t] = (uint32_t)(s->nstrings - 1);
		s->node_type[t] = node_type_of(name);
	}
	free(order);
	return NULL;
}

/* Numbers as one comma-separated line: the writer's hot loop. */
static void put_row(struct pha_out *out, bool first, const uint64_t *v, size_t n)
{
	char buf[HS_NODE_FIELDS * 21 + 4];
	size_t len = 0;
	if (!first)
		buf[len++] = ',';
	for (size_t i = 0; i < n; i++) {
		char digits[20];
		size_t k = 0;
		uint64_t x = v[i];
		do {
			digits[k++] = (char)('0' + x % 10);
			x /= 10;
		} while (x);
		if (i)
			buf[len++] = ',';
		while (k)
			buf[len++] = digits[--k];
	}
	buf[len++] = '\n';
	pha_out_write(out, buf, len);
}

static void write_meta(struct hs *s, uint64_t nodes, uint64_t edges)
{
	pha_out_printf(s->out,
		       "{\"snapshot\":{\"meta\":{"
		       "\"node_fields\":[\"type\",\"name\",\"id\",\"self_size\",\"edge_count\","
		       "\"trace_node_id\",\"detachedness\"],\n"
		       "\"node_types\":[[\"hidden\",\"array\",\"string\",\"object\",\"code\","
		       "\"closure\",\"regexp\",\"number\",\"native\",\"synthetic\","
		       "\"concatenated string\",\"sliced string\",\"symbol\",\"bigint\","
		       "\"object shape\"],\"string\",\"number\",\"number\",\"number\",\"number\","
		       "\"number\"],\n"
		       "\"edge_fields\":[\"type\",\"name_or_index\",\"to_node\"],\n"
		       "\"edge_types\":[[\"context\",\"element\",\"property\",\"internal\","
		       "\"hidden\",\"shortcut\",\"weak\"],\"string_or_number\",\"node\"],\n"
		       "\"trace_function_info_fields\":[],\"trace_node_fields\":[],"
		       "\"sample_fields\":[],\"location_fields\":[]},\n"
		       "\"node_count\":%llu,\"edge_count\":%llu,\"trace_function_count\":0},\n",
		       (unsigned long long)nodes, (unsigned long long)edges);
}

static void write_nodes(struct hs *s)
{
	const struct pha_heap *h = s->h;
	pha_out_puts(s->out, "\"nodes\":[");
	uint64_t row[HS_NODE_FIELDS] = {HS_TYPE_SYNTHETIC, 0, 1, 0, HS_NSYN, 0, 0};
	put_row(s->out, true, row, HS_NODE_FIELDS);
	for (int i = 0; i < HS_NSYN; i++) {
		uint64_t syn[HS_NODE_FIELDS] = {HS_TYPE_SYNTHETIC, 1 + (uint64_t)i, 2 * (1 + (uint64_t)i) + 1,
						0, s->nheads[i], 0, 0};
		put_row(s->out, false, syn, HS_NODE_FIELDS);
	}
	for (uint32_t v = 0; v < h->n; v++) {
		uint32_t t = h->type[v];
		uint64_t k = HS_FIRST_OBJ + (uint64_t)v;
		uint64_t obj[HS_NODE_FIELDS] = {
			s->node_type[t], s->name_of[t], 2 * k + 1,
			pha_heap_size(h, v) > UINT32_MAX ? UINT32_MAX : pha_heap_size(h, v),
			h->first[v + 1] - h->first[v], 0, 0,
		};
		put_row(s->out, false, obj, HS_NODE_FIELDS);
	}
	pha_out_puts(s->out, "],\n");
}

static void write_edges(struct hs *s)
{
	const struct pha_heap *h = s->h;
	bool first = true;
	pha_out_puts(s->out, "\"edges\":[");
	for (int i = 0; i < HS_NSYN; i++) {
		uint64_t e[3] = {HS_EDGE_ELEMENT, (uint64_t)i, (1 + (uint64_t)i) * HS_NODE_FIELDS};
		put_row(s->out, first, e, 3);
		first = false;
	}
	size_t at = 0;
	for (int i = 0; i < HS_NSYN; i++) {
		for (size_t k = 0; k < s->nheads[i]; k++, at++) {
			uint64_t e[3] = {HS_EDGE_ELEMENT, k,
					 (HS_FIRST_OBJ + (uint64_t)s->heads[at]) * HS_NODE_FIELDS};
			put_row(s->out, false, e, 3);
		}
	}
	for (uint32_t v = 0; v < h->n; v++) {
		for (uint32_t e = h->first[v]; e < h->first[v + 1]; e++) {
			uint64_t row[3] = {(h->eflags[e] & PHA_EDGE_WEAK) ? HS_EDGE_WEAK : HS_EDGE_ELEMENT,
					   e - h->first[v],
					   (HS_FIRST_OBJ + (uint64_t)h->dst[e]) * HS_NODE_FIELDS};
			put_row(s->out, false, row, 3);
		}
	}
	pha_out_puts(s->out, "],\n");
}

static void write_strings(struct hs *s)
{
	pha_out_puts(s->out, "\"trace_function_infos\":[],\"trace_tree\":[],\"samples\":[],"
			     "\"locations\":[],\n\"strings\":[");
	for (size_t i = 0; i < s->nstrings; i++) {
		pha_out_puts(s->out, i ? ",\n\"" : "\"");
		pha_json_escape(s->out, s->strings[i]);
		pha_out_puts(s->out, "\"");
	}
	pha_out_puts(s->out, "]}\n");
}

static void hs_deinit(struct hs *s)
{
	free(s->mark);
	free(s->queue);
	free(s->heads);
	free(s->name_of);
	free(s->node_type);
	free(s->strings);
}

struct pha_error *pha_report_write_heapsnapshot(const struct pha_heap *h,
						const struct pha_source *src, struct pha_out *out)
{
	struct hs s = {.h = h, .out = out};
	size_t n = h->n ? h->n : 1;
	struct pha_error *err = &pha_enomem;
	s.mark = calloc(n, 1);
	s.queue = malloc(n * sizeof(*s.queue));
	s.heads = malloc(n * sizeof(*s.heads));
	if (!s.mark || !s.queue || !s.heads)
		goto out;
	if ((err = plan_roots(&s, src)))
		goto out;
	free(s.mark);
	free(s.queue);
	s.mark = NULL;
	s.queue = NULL;
	if ((err = plan_strings(&s)))
		goto out;
	write_meta(&s, HS_FIRST_OBJ + (uint64_t)h->n, HS_NSYN + s.total_heads + h->nedges);
	write_nodes(&s);
	write_edges(&s);
	write_strings(&s);
out:
	hs_deinit(&s);
	return err;
}
