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

FP_STEP_KERNELS(ad, 4, 1)

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

FP_STEP_KERNELS(adosc, 4, 1)

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

static FP_INLINE void obv_step(obv_state *s, const double *in, double *out)
{
    const double x = in[0], volume = in[1];
    if (s->n++ == 0)
        s->obv = volume;
    else if (x > s->prev)
        s->obv += volume;
    else if (x < s->prev)
        s->obv -= volume;
    s->prev = x;
    out[0] = s->obv;
}

FP_STEP_KERNELS(obv, 2, 1)

/* ------------------------------------------------------------------ */
/* The rows                                                            */
/* ------------------------------------------------------------------ */

const fp_indicator fp_volume_rows[] = {
    {.name = "ad", .ta_name = "AD", .group = G_VOLUME,
     .summary = "Chaikin accumulation/distribution line",
     .n_in = IN_HLCV, .n_params = 0, .n_out = 1, .out = {"real"}, KERNELS(ad)},
    {.name = "adosc", .ta_name = "ADOSC", .group = G_VOLUME,
     .summary = "Chaikin oscillator: fast EMA - slow EMA of the accumulation/distribution line",
     .n_in = IN_HLCV, .n_params = 2,
     .params = {P_INT("fast", "fastperiod", 3, 2), P_INT("slow", "slowperiod", 10, 2)},
     .n_out = 1, .out = {"real"}, KERNELS(adosc)},
    {.name = "obv", .ta_name = "OBV", .group = G_VOLUME,
     .summary = "On-balance volume",
     .n_in = 2, .in = {"x", "volume"}, .ta_in = {"real", "volume"}, .n_params = 0,
     .n_out = 1, .out = {"real"}, KERNELS(obv)},
};
const size_t fp_volume_count = sizeof fp_volume_rows / sizeof fp_volume_rows[0];
