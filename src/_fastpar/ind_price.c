/*
 * ind_price.c - TA-Lib's price transforms: each bar's prices combined
 * into one value, with TA-Lib's order of operations (so the same doubles).
 * One block per function, and the rows in fp_price_rows at the end.
 */
#include "ind_common.h"

static size_t price_lookback(const double *p)
{
    (void)p;
    return 0;
}

/* No state: a bar's value depends on that bar alone. */
typedef struct {
    char unused;
} price_state;

static size_t price_size(const double *p)
{
    (void)p;
    return sizeof(price_state);
}

static void price_init(void *st, const double *p)
{
    (void)st;
    (void)p;
}

/* From one expression of the bar b[0..n_in): the batch loop (a plain loop
 * over the arrays, which the compiler vectorises) and the stream update.
 * Each expression is a sum of the bar's prices with positive weights, so a
 * NaN or an infinity among them makes the bar's value NaN or infinite: the
 * loop checks the values it has just written, a chunk at a time while they
 * are in cache, and reads the prices again only for a chunk with a value
 * that is not finite (a bad price, or finite prices whose sum overflowed).
 * One array checked instead of n_in: about a quarter less time. */
#define PRICE_KERNELS(name, n_in, expr)                                                           \
    static FP_INLINE double name##_of(const double *b)                                            \
    {                                                                                             \
        return (expr);                                                                            \
    }                                                                                             \
    static int name##_batch(const double *const *in, size_t n, const double *p,                 \
                            double *const *out)                                                   \
    {                                                                                             \
        (void)p;                                                                                  \
        double *o = out[0];                                                                       \
        for (size_t b0 = 0; b0 < n; b0 += FP_CHECK_CHUNK) {                                       \
            const size_t e = n - b0 > FP_CHECK_CHUNK ? b0 + FP_CHECK_CHUNK : n;                   \
            for (size_t i = b0; i < e; i++) {                                                     \
                double b[n_in];                                                                   \
                for (int k = 0; k < (n_in); k++)                                                  \
                    b[k] = in[k][i];                                                              \
                o[i] = name##_of(b);                                                              \
            }                                                                                     \
            if (!all_finite(o + b0, e - b0))                                                      \
                for (int k = 0; k < (n_in); k++)                                                  \
                    if (!all_finite(in[k] + b0, e - b0))                                          \
                        return FP_ENONFINITE;                                                     \
        }                                                                                         \
        return FP_OK;                                                                             \
    }                                                                                             \
    static void name##_update(void *st, const double *in, double *out)                          \
    {                                                                                             \
        (void)st;                                                                                 \
        out[0] = name##_of(in);                                                                   \
    }

/* TA-Lib's sums, term by term: (high + low + close + open) / 4 ... */
PRICE_KERNELS(avgprice, 4, (b[1] + b[2] + b[3] + b[0]) / 4.0)
PRICE_KERNELS(medprice, 2, (b[0] + b[1]) / 2.0)
PRICE_KERNELS(typprice, 3, (b[0] + b[1] + b[2]) / 3.0)
PRICE_KERNELS(wclprice, 3, (b[0] + b[1] + b[2] * 2.0) / 4.0)

#define PRICE_ROW_KERNELS(name)                                                                   \
    .flags = FP_OWN_FINITE, .lookback = price_lookback, .batch = name##_batch,                    \
    .state_size = price_size,                                                                     \
    .state_init = price_init, .update = name##_update

const fp_indicator fp_price_rows[] = {
    {.name = "avgprice", .ta_name = "AVGPRICE", .group = G_PRICE,
     .summary = "Average price: (open + high + low + close) / 4",
     .n_in = IN_OHLC, .n_params = 0, .n_out = 1, .out = {"real"}, PRICE_ROW_KERNELS(avgprice)},
    {.name = "medprice", .ta_name = "MEDPRICE", .group = G_PRICE,
     .summary = "Median price: (high + low) / 2",
     .n_in = IN_HL, .n_params = 0, .n_out = 1, .out = {"real"}, PRICE_ROW_KERNELS(medprice)},
    {.name = "typprice", .ta_name = "TYPPRICE", .group = G_PRICE,
     .summary = "Typical price: (high + low + close) / 3",
     .n_in = IN_HLC, .n_params = 0, .n_out = 1, .out = {"real"}, PRICE_ROW_KERNELS(typprice)},
    {.name = "wclprice", .ta_name = "WCLPRICE", .group = G_PRICE,
     .summary = "Weighted close price: (high + low + 2 close) / 4",
     .n_in = IN_HLC, .n_params = 0, .n_out = 1, .out = {"real"}, PRICE_ROW_KERNELS(wclprice)},
};
const size_t fp_price_count = sizeof fp_price_rows / sizeof fp_price_rows[0];
