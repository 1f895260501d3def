/*
 * ind_volume.c - TA-Lib's volume indicators, one block per function: its
 * lookback, batch kernel, streaming state and step, and its row in
 * fp_volume_rows at the end of the file.
 */
#include "ind_common.h"

/* ------------------------------------------------------------------ */
/* AD, ADOSC                                                           */
/* ------------------------------------------------------------------ */

/* Chaikin's accumulation/distribution line: from 0, each bar adds
 * ((close - low) - (high - close)) / (high - low) * volume, bars without a
 * range adding nothing. */
static FP_INLINE double ad_add(double ad, const double *in)
{
    const double high = in[0], low = in[1], close = in[2];
    const double range = high - low;
    return range > 0.0 ? ad + (((close - low) - (high - close)) / range) * in[3] : ad;
}

static size_t ad_lookback(const double *p)
{
    (void)p;
    return 0;
}

typedef struct {
    double ad;
} ad_state;

static size_t ad_size(const double *p)
{
    (void)p;
    return sizeof(ad_state);
}

static void ad_init(void *st, const double *p)
{
    (void)p;
    ((ad_state *)st)->ad = 0.0;
}

static FP_INLINE void ad_step(ad_state *s, const double *in, double *out)
{
    out[0] = s->ad = ad_add(s->ad, in);
}

static void ad_update(void *st, const double *in, double *out)
{
    ad_step(st, in, out);
}

/* The increment of a bar, 0.0 for a bar without a range: adding it is
 * ad_add (the line is never -0.0, so + 0.0 leaves it unchanged), with
 * no branch on the data. */
static FP_INLINE double ad_increment(double high, double low, double close, double volume)
{
    const double range = high - low;
    const double q = (((close - low) - (high - close)) / range) * volume;
    return range > 0.0 ? q : 0.0;
}

/* The batch loops check finiteness a chunk at a time (FP_OWN_FINITE). */
static int ad_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    (void)p;
    const double *h = in[0], *l = in[1], *c = in[2], *v = in[3];
    double *o = out[0];
    double ad = 0.0;
    size_t upto = 0;
    for (size_t b0 = 0; b0 < n; b0 += FP_CHECK_CHUNK) {
        const size_t e = n - b0 > FP_CHECK_CHUNK ? b0 + FP_CHECK_CHUNK : n;
        for (size_t i = b0; i < e; i++) {
            ad += ad_increment(h[i], l[i], c[i], v[i]);
            o[i] = ad;
        }
        if (!finite_upto(in, 4, n, e, &upto))
            return FP_ENONFINITE;
    }
    return FP_OK;
}

/* Chaikin's oscillator: EMA(fast) - EMA(slow) of the AD line, both EMAs
 * started at the first AD value (not a mean: TA-Lib's ADOSC) with TA-Lib's
 * k x + (1 - k) y step; output from the slower period's lookback on. */
static size_t adosc_lookback(const double *p)
{
    return (p[0] > p[1] ? per(p, 0) : per(p, 1)) - 1;
}

typedef struct {
    double ad, fast, slow, kf, ks;
    size_t n, lookback;
} adosc_state;

static size_t adosc_size(const double *p)
{
    (void)p;
    return sizeof(adosc_state);
}

static void adosc_init(void *st, const double *p)
{
    adosc_state *s = st;
    s->kf = 2.0 / (p[0] + 1.0);
    s->ks = 2.0 / (p[1] + 1.0);
    s->ad = s->fast = s->slow = 0.0;
    s->n = 0;
    s->lookback = adosc_lookback(p);
}

static FP_INLINE void adosc_step(adosc_state *s, const double *in, double *out)
{
    s->ad = ad_add(s->ad, in);
    if (s->n++ == 0) {
        s->fast = s->slow = s->ad;
    } else {
        s->fast = s->kf * s->ad + (1.0 - s->kf) * s->fast;
        s->slow = s->ks * s->ad + (1.0 - s->ks) * s->slow;
    }
    out[0] = s->n <= s->lookback ? NAN : s->fast - s->slow;
}

static void adosc_update(void *st, const double *in, double *out)
{
    adosc_step(st, in, out);
}

static int adosc_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    const double *h = in[0], *l = in[1], *c = in[2], *v = in[3];
    double *o = out[0];
    const double kf = 2.0 / (p[0] + 1.0), ks = 2.0 / (p[1] + 1.0);
    const double mf = 1.0 - kf, ms = 1.0 - ks;
    const size_t lookback = adosc_lookback(p);
    size_t upto = 0;
    double ad = 0.0 + ad_increment(h[0], l[0], c[0], v[0]);
    double fast = ad, slow = ad;
    for (size_t i = 1; i < lookback; i++) { /* n > lookback >= 1 */
        ad += ad_increment(h[i], l[i], c[i], v[i]);
        fast = kf * ad + mf * fast;
        slow = ks * ad + ms * slow;
    }
    for (size_t b0 = lookback; b0 < n; b0 += FP_CHECK_CHUNK) {
        const size_t e = n - b0 > FP_CHECK_CHUNK ? b0 + FP_CHECK_CHUNK : n;
        for (size_t i = b0; i < e; i++) {
            ad += ad_increment(h[i], l[i], c[i], v[i]);
            fast = kf * ad + mf * fast;
            slow = ks * ad + ms * slow;
            o[i] = fast - slow;
        }
        if (!finite_upto(in, 4, n, e, &upto))
            return FP_ENONFINITE;
    }
    return FP_OK;
}

/* ------------------------------------------------------------------ */
/* OBV                                                                 */
/* ------------------------------------------------------------------ */

/* On-balance volume: the first bar's volume, then + volume when x rose,
 * - volume when it fell, unchanged when equal. */
static size_t obv_lookback(const double *p)
{
    (void)p;
    return 0;
}

typedef struct {
    double obv, prev;
    size_t n;
} obv_state;

static size_t obv_size(const double *p)
{
    (void)p;
    return sizeof(obv_state);
}

static void obv_init(void *st, const double *p)
{
    obv_state *s = st;
    (void)p;
    s->obv = s->prev = 0.0;
    s->n = 0;
}

/* The volume times the direction, 1, -1 or 0: the same sums as adding,
 * subtracting or leaving (a product by 1 or -1 is exact, and + 0.0 or
 * -0.0 leaves a sum unchanged), without a branch on the data, which
 * would mispredict half the time on prices. */
static FP_INLINE double obv_move(double x, double prev, double volume)
{
    return (double)((x > prev) - (x < prev)) * volume;
}

static FP_INLINE void obv_step(obv_state *s, const double *in, double *out)
{
    const double x = in[0], volume = in[1];
    if (s->n++ == 0)
        s->obv = volume;
    else
        s->obv += obv_move(x, s->prev, volume);
    s->prev = x;
    out[0] = s->obv;
}

static void obv_update(void *st, const double *in, double *out)
{
    obv_step(st, in, out);
}

static int obv_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    (void)p;
    const double *x = in[0], *v = in[1];
    double *o = out[0];
    double obv = v[0];
    o[0] = obv;
    FP_CHECKED_LOOP(i, 1, n, in, 2, o[i] = obv += obv_move(x[i], x[i - 1], v[i]));
    return FP_OK;
}

/* ------------------------------------------------------------------ */
/* The rows                                                            */
/* ------------------------------------------------------------------ */

const fp_indicator fp_volume_rows[] = {
    {.name = "ad", .ta_name = "AD", .group = G_VOLUME,
     .summary = "Chaikin accumulation/distribution line",
     .n_in = IN_HLCV, .n_params = 0, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(ad)},
    {.name = "adosc", .ta_name = "ADOSC", .group = G_VOLUME,
     .summary = "Chaikin oscillator: fast EMA - slow EMA of the accumulation/distribution line",
     .n_in = IN_HLCV, .n_params = 2,
     .params = {P_INT("fast", "fastperiod", 3, 2), P_INT("slow", "slowperiod", 10, 2)},
     .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(adosc)},
    {.name = "obv", .ta_name = "OBV", .group = G_VOLUME,
     .summary = "On-balance volume",
     .n_in = 2, .in = {"x", "volume"}, .ta_in = {"real", "volume"}, .n_params = 0,
     .n_out = 1, .out = {"real"}, .flags = FP_OWN_FINITE, KERNELS(obv)},
};
const size_t fp_volume_count = sizeof fp_volume_rows / sizeof fp_volume_rows[0];
