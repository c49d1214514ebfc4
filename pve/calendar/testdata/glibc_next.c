// glibc_next.c: compute_next_event of proxmox-time, re-written in C over
// glibc's own localtime_r/mktime/timegm, to cross-check the Go port's
// wall-clock normalization (editor.go). Run by crosscheck_test.go
// (go test -tags crosscheck ./pve/calendar); needs a C compiler.
// Input lines: ZONE UTC LAST GO_RESULT DAYS YEAR MONTH DAY HOUR MINUTE SECOND<TAB>EXPR
// with each list as kind:start:end:rep:hasEnd,... or "-".
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
typedef struct { int kind; unsigned start, end, rep, hasEnd; } val;
typedef struct { int n; val v[16]; } list;
static void parse_list(char *s, list *l) { l->n = 0; if (!strcmp(s, "-")) return;
  char *tok = strtok(s, ","); while (tok) { val *v = &l->v[l->n++]; sscanf(tok, "%d:%u:%u:%u:%u", &v->kind, &v->start, &v->end, &v->rep, &v->hasEnd); tok = strtok(NULL, ","); } }
static int contains(val *v, unsigned x) {
  if (v->kind == 0) return x == v->start;
  if (v->kind == 1) return x >= v->start && x <= v->end;
  if (x < v->start) return 0; if (v->rep == 0) return x == v->start;
  return (x - v->start) % v->rep == 0 && (!v->hasEnd || x <= v->end); }
static int lc(list *l, unsigned x) { for (int i = 0; i < l->n; i++) if (contains(&l->v[i], x)) return 1; return 0; }
static int fn(list *l, unsigned x, unsigned *out) { int f = 0; unsigned nx = 0;
  for (int i = 0; i < l->n; i++) { val *v = &l->v[i]; unsigned c; int has = 0;
    if (v->kind == 0) { if (v->start > x) { c = v->start; has = 1; } }
    else if (v->kind == 1) { if (x < v->start) { c = v->start; has = 1; } else { unsigned n = x + 1; if (n >= v->start && n <= v->end) { c = n; has = 1; } } }
    else { if (x < v->start) { c = v->start; has = 1; } else if (v->rep > 0) { unsigned n = v->start + ((x - v->start + v->rep) / v->rep) * v->rep; if (!v->hasEnd || n <= v->end) { c = n; has = 1; } } }
    if (has && (!f || c < nx)) { nx = c; f = 1; } }
  *out = nx; return f; }
static int utc;
static struct tm t;
static void norm(void) { if (utc) { t.tm_isdst = 0; timegm(&t); } else { t.tm_isdst = -1; mktime(&t); } }
static void add_years(int y) { if (!y) return; t.tm_mon = 0; t.tm_mday = 1; t.tm_hour = t.tm_min = t.tm_sec = 0; t.tm_year += y; norm(); }
static void add_months(int m) { if (!m) return; t.tm_mday = 1; t.tm_hour = t.tm_min = t.tm_sec = 0; t.tm_mon += m; norm(); }
static void add_days(int d) { if (!d) return; t.tm_hour = t.tm_min = t.tm_sec = 0; t.tm_mday += d; norm(); }
int main(void) {
  char line[4096]; int total = 0, bad = 0;
  while (fgets(line, sizeof line, stdin)) {
    char zone[64], ys[512], ms[512], ds[512], hs[512], mis[512], ss[512]; long long last, want; unsigned days;
    char *tab = strchr(line, '\t'); char expr[512] = ""; if (tab) { strcpy(expr, tab + 1); expr[strcspn(expr, "\n")] = 0; *tab = 0; }
    sscanf(line, "%63s %d %lld %lld %u %s %s %s %s %s %s", zone, &utc, &last, &want, &days, ys, ms, ds, hs, mis, ss);
    list Y, M, D, H, MI, S; parse_list(ys, &Y); parse_list(ms, &M); parse_list(ds, &D); parse_list(hs, &H); parse_list(mis, &MI); parse_list(ss, &S);
    setenv("TZ", zone, 1); tzset();
    time_t l1 = last + 1;
    /* glibc's mktime starts from the offset of its previous result; prime it with
       the start time, which is what the Go port assumes. */
    if (utc) gmtime_r(&l1, &t); else { localtime_r(&l1, &t); struct tm prime = t; mktime(&prime); localtime_r(&l1, &t); }
    int alld = days == 0 || days == 127; long long res = -1;
    for (int count = 0; count <= 1000; count++) {
      unsigned n;
      if (Y.n) { unsigned y = t.tm_year + 1900; if (!lc(&Y, y)) { if (fn(&Y, y, &n)) { add_years(n - y); continue; } else break; } }
      if (M.n) { unsigned m = t.tm_mon + 1; if (!lc(&M, m)) { if (fn(&M, m, &n)) add_months(n - m); else add_years(1); continue; } }
      if (D.n) { unsigned d = t.tm_mday; if (!lc(&D, d)) { if (fn(&D, d, &n)) add_days(n - d); else add_months(1); continue; } }
      if (!alld) { int dn = (t.tm_wday + 6) % 7; if (!(days & (1 << dn))) { int k = dn + 1; while (k < 7 && !(days & (1 << k))) k++; add_days(k - dn); continue; } }
      if (H.n) { unsigned h = t.tm_hour; if (!lc(&H, h)) { if (fn(&H, h, &n)) { t.tm_hour = n; t.tm_min = 0; t.tm_sec = 0; norm(); } else add_days(1); continue; } }
      if (MI.n) { unsigned m = t.tm_min; if (!lc(&MI, m)) { if (fn(&MI, m, &n)) { t.tm_min = n; t.tm_sec = 0; norm(); } else { t.tm_hour += 1; t.tm_min = 0; t.tm_sec = 0; norm(); } continue; } }
      if (S.n) { unsigned s = t.tm_sec; if (!lc(&S, s)) { if (fn(&S, s, &n)) { t.tm_sec = n; norm(); } else { t.tm_min += 1; t.tm_sec = 0; norm(); } continue; } }
      struct tm c = t; res = utc ? (t.tm_isdst = 0, timegm(&c)) : (c.tm_isdst = -1, mktime(&c));
      break;
    }
    total++;
    if (res != want) { bad++; if (bad <= 15) printf("MISMATCH %s [%s] last=%lld go=%lld c=%lld\n", zone, expr, last, want, res); }
  }
  printf("total %d mismatches %d\n", total, bad);
}
