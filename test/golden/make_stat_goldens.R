#!/usr/bin/env Rscript
# Goldens for the statistical baselines and the M4 metrics (test/stat-baselines.test.ts and
# test/forecast-metrics.test.ts test src/forecast/baselines/{decompose,naive2,theta}.ts and
# src/forecast/metrics.ts against them).
#
# Sources, so that nothing here is a re-derivation of the TypeScript:
# - the M4 competition's benchmark code ("Benchmarks and Evaluation.R", github.com/Mcompetitions/M4-methods):
#   SeasonalityTest, the Naive2 forecast of its Benchmarks() (naive forecast of the seasonally adjusted
#   series times the last season of decompose()'s indices), smape_cal and mase_cal, copied below;
# - R's stats::decompose(type = "multiplicative") for the classical decomposition;
# - forecast::thetaf for Theta (its ses() -> ets(model = "ANN", opt.crit = "mse") fit is also read
#   back: alpha, initial level and the MSE it minimised), forecast::naive, forecast::accuracy (MASE
#   cross-check);
# - MSIS as the M4 competitor's guide defines it (written out below: no R package implements it).
#
# Run from the repository root with Debian's R and r-cran-forecast (and jsonlite):
#   Rscript test/golden/make_stat_goldens.R
# Writes test/golden/stat-baselines.json.
suppressMessages({
  library(forecast)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
out <- file.path(here, "stat-baselines.json")

# --- the M4 benchmark code, verbatim apart from layout -------------------------------------------
SeasonalityTest <- function(input, ppy) {
  # Used to determine whether a time series is seasonal
  tcrit <- 1.645
  if (length(input) < 3 * ppy) {
    test_seasonal <- FALSE
  } else {
    xacf <- acf(input, plot = FALSE)$acf[-1, 1, 1]
    clim <- tcrit / sqrt(length(input)) * sqrt(cumsum(c(1, 2 * xacf^2)))
    test_seasonal <- (abs(xacf[ppy]) > clim[ppy])
    if (is.na(test_seasonal) == TRUE) {
      test_seasonal <- FALSE
    }
  }
  return(test_seasonal)
}

Naive2 <- function(input, fh) {
  # The Naive2 part of the M4 code's Benchmarks(): f3 <- naive(des_input, h=fh)$mean*SIout
  ppy <- frequency(input)
  ST <- F
  if (ppy > 1) {
    ST <- SeasonalityTest(input, ppy)
  }
  if (ST == T) {
    Dec <- decompose(input, type = "multiplicative")
    des_input <- input / Dec$seasonal
    SIout <- head(rep(Dec$seasonal[(length(Dec$seasonal) - ppy + 1):length(Dec$seasonal)], fh), fh)
  } else {
    des_input <- input
    SIout <- rep(1, fh)
  }
  as.numeric(naive(des_input, h = fh)$mean * SIout)
}

smape_cal <- function(outsample, forecasts) {
  # Used to estimate sMAPE
  outsample <- as.numeric(outsample)
  forecasts <- as.numeric(forecasts)
  smape <- (abs(outsample - forecasts) * 200) / (abs(outsample) + abs(forecasts))
  return(mean(smape))
}

mase_cal <- function(insample, outsample, forecasts) {
  # Used to estimate MASE
  frq <- frequency(insample)
  forecastsNaiveSD <- rep(NA, frq)
  for (j in (frq + 1):length(insample)) {
    forecastsNaiveSD <- c(forecastsNaiveSD, insample[j - frq])
  }
  masep <- mean(abs(insample - forecastsNaiveSD), na.rm = TRUE)
  outsample <- as.numeric(outsample)
  forecasts <- as.numeric(forecasts)
  mase <- (abs(outsample - forecasts)) / masep
  return(mean(mase))
}

# MSIS (M4 competitor's guide, eq. 4): the mean interval score over the horizon, with a = 1 − level,
# divided by the in-sample MAE of the seasonal naive forecast (MASE's scale).
msis_cal <- function(insample, outsample, lo, hi, level) {
  a <- 1 - level / 100
  y <- as.numeric(outsample)
  lo <- as.numeric(lo)
  hi <- as.numeric(hi)
  frq <- frequency(insample)
  scale <- mean(abs(diff(as.numeric(insample), lag = frq)))
  score <- (hi - lo) + (2 / a) * (lo - y) * (y < lo) + (2 / a) * (y - hi) * (y > hi)
  mean(score) / scale
}

# thetaf's own seasonality test (n > 2m, critical value qnorm(0.95), the ACF up to lag m), copied
# from forecast::thetaf so its outcome can be stored beside the M4 code's.
ThetafSeasonal <- function(x) {
  n <- length(x)
  m <- frequency(x)
  if (m > 1 && !is.constant(x) && n > 2 * m) {
    r <- as.numeric(acf(x, lag.max = m, plot = FALSE)$acf)[-1]
    stat <- sqrt((1 + 2 * sum(r[-m]^2)) / n)
    abs(r[m]) / stat > qnorm(0.95)
  } else {
    FALSE
  }
}

# --- the series ----------------------------------------------------------------------------------
# M4 horizons: 18 monthly, 8 quarterly, 6 yearly. Each series' last `h` points are the actuals.
cases <- list(
  list(name = "AirPassengers", x = AirPassengers, h = 18),
  list(name = "USAccDeaths", x = USAccDeaths, h = 18),
  list(name = "nottem", x = nottem, h = 18),
  list(name = "UKgas", x = UKgas, h = 8),
  list(name = "austres", x = austres, h = 8),
  list(name = "JohnsonJohnson", x = JohnsonJohnson, h = 8),
  list(name = "Nile", x = Nile, h = 6),
  # Not seasonal: a series without a yearly pattern given a season of 12 (both tests must say no).
  list(name = "WWWusage as monthly", x = ts(as.numeric(WWWusage), frequency = 12), h = 18),
  # (The names give the whole series; the history is all but its last h points.)
  # 2m < n < 3m (n = 35): thetaf tests for seasonality (n > 2m) and finds it, the M4 code does not
  # test (n >= 3m).
  list(name = "UKDriverDeaths 1970-01 to 1974-05", x = window(UKDriverDeaths, start = c(1970, 1), end = c(1974, 5)), h = 18),
  # Shorter than two seasons (n = 20): neither tests; Theta is plain SES with drift.
  list(name = "AirPassengers, first 38", x = window(AirPassengers, end = c(1952, 2)), h = 18),
  # n = 5 <= 6: ets() hands ANN to HoltWintersZZ (initial level x[1], alpha by L-BFGS-B on the SSE).
  list(name = "Nile, first 11", x = window(Nile, end = 1881), h = 6)
)

# Arrays are marked as such (a length-1 vector stays an array); JSON is written by hand with 17
# significant digits, since jsonlite's toJSON keeps at most 15 and the tests compare to 1e-12.
num <- function(v) structure(as.numeric(v), class = "jsonarray")
to_json <- function(v) {
  scalar <- function(x) {
    if (is.logical(x)) return(if (x) "true" else "false")
    if (is.character(x)) return(toJSON(x, auto_unbox = TRUE))
    if (is.na(x) || !is.finite(x)) return("null")
    sprintf("%.17g", x)
  }
  if (is.null(v)) return("null")
  if (inherits(v, "jsonarray")) return(paste0("[", paste(vapply(unclass(v), scalar, ""), collapse = ","), "]"))
  if (is.list(v)) {
    items <- vapply(v, to_json, "")
    if (is.null(names(v))) return(paste0("[", paste(items, collapse = ","), "]"))
    return(paste0("{", paste0(vapply(names(v), function(k) toJSON(k, auto_unbox = TRUE), ""), ":", items, collapse = ","), "}"))
  }
  stopifnot(length(v) == 1)
  scalar(unname(v))
}
stopifnot(all(sapply(cases, function(c) {
  n <- length(c$x) - c$h
  # The M4 code computes the ACF to acf()'s default lag, 10 log10(n): check it reaches m, so its
  # result is the test as defined (see decompose.ts on the series where it does not).
  frequency(c$x) == 1 || n < 3 * frequency(c$x) || floor(10 * log10(n)) >= frequency(c$x)
})))

results <- lapply(cases, function(c) {
  m <- frequency(c$x)
  N <- length(c$x)
  n <- N - c$h
  x <- ts(c$x[1:n], frequency = m, start = start(c$x))
  actual <- num(c$x[(n + 1):N])
  res <- list(name = c$name, season = m, horizon = c$h, history = num(x), actual = actual)

  res$acf <- if (n > m) num(as.numeric(acf(x, lag.max = m, plot = FALSE)$acf)[-1]) else NULL
  res$m4Seasonal <- if (m > 1) SeasonalityTest(x, m) else FALSE
  res$thetafSeasonal <- ThetafSeasonal(x)
  if (m > 1 && n >= 2 * m) {
    d <- decompose(x, type = "multiplicative")
    res$decompose <- list(
      figure = num(d$figure),
      trend = num(d$trend), # NaN where the centred moving average is undefined (written as null)
      seasonal = num(d$seasonal),
      horizonSeasonal = num(rep(tail(d$seasonal, m), trunc(1 + c$h / m))[1:c$h])
    )
  }
  res$naive2 <- num(Naive2(x, c$h))

  th <- thetaf(x, h = c$h, level = c(80, 95))
  res$theta <- list(
    point = num(th$mean),
    lo80 = num(th$lower[, 1]), hi80 = num(th$upper[, 1]),
    lo95 = num(th$lower[, 2]), hi95 = num(th$upper[, 2]),
    alpha = unname(th$model$alpha), drift = unname(th$model$drift), sigma2 = unname(th$model$sigma)
  )
  # The SES fit inside thetaf, on the series it fits (seasonally adjusted where thetaf found seasonality).
  xa <- if (res$thetafSeasonal) seasadj(decompose(x, type = "multiplicative")) else x
  fit <- ses(xa, h = c$h)$model
  res$theta$ses <- list(
    adjusted = num(xa),
    alpha = unname(fit$par["alpha"]), level0 = unname(fit$par["l"]),
    # The SES criterion at R's optimum: ets's MSE (n >= 7) or HoltWintersZZ's SSE/n (n <= 6).
    mse = mean(num(fit$residuals)^2),
    path = if (n <= 6) "HoltWintersZZ" else "ets",
    # R's own criterion with alpha fixed at its lower bound (the initial level still optimised): where
    # it is below `mse`, R's Nelder-Mead stopped at a worse point than the bound (nottem).
    mseAtAlphaLowerBound = if (n <= 6) NULL else ets(xa, "ANN", opt.crit = "mse", alpha = 1e-4)$mse
  )

  res$metrics <- list(
    thetaSmape = smape_cal(actual, th$mean),
    thetaMase = mase_cal(x, actual, th$mean),
    thetaMsis95 = msis_cal(x, actual, th$lower[, 2], th$upper[, 2], 95),
    thetaMsis80 = msis_cal(x, actual, th$lower[, 1], th$upper[, 1], 80),
    thetaCoverage80 = mean(actual >= th$lower[, 1] & actual <= th$upper[, 1]),
    thetaCoverage95 = mean(actual >= th$lower[, 2] & actual <= th$upper[, 2]),
    naive2Smape = smape_cal(actual, unclass(res$naive2)),
    naive2Mase = mase_cal(x, actual, unclass(res$naive2))
  )
  # forecast::accuracy's MASE (seasonal series: scaled by the lag-m differences) must agree with the M4 code's.
  acc <- accuracy(th, c$x)["Test set", "MASE"] # c$x: a ts of the same frequency (its d, D defaults)
  stopifnot(abs(acc - res$metrics$thetaMase) < 1e-12 * max(1, acc))
  res
})

# OWA of Theta against Naive2 over these series, as M4 computes it: the ratio of the mean sMAPEs and
# the ratio of the mean MASEs, averaged.
ms <- function(k) mean(sapply(results, function(r) r$metrics[[k]]))
owa <- list(
  model = list(smape = ms("thetaSmape"), mase = ms("thetaMase")),
  naive2 = list(smape = ms("naive2Smape"), mase = ms("naive2Mase"))
)
owa$owa <- 0.5 * (owa$model$smape / owa$naive2$smape + owa$model$mase / owa$naive2$mase)

# R's qnorm (AS 241) at a few probabilities, for the normal quantile the intervals use.
qp <- c(1e-300, 1e-10, 0.01, 0.025, 0.05, 0.1, 0.3, 0.5 - 0.4, 0.5, 0.7, 0.9, 0.95, 0.975, 0.999999, 1 - 1e-12)
golden <- list(
  generator = "test/golden/make_stat_goldens.R",
  r = R.version.string,
  forecast = as.character(packageVersion("forecast")),
  cases = results,
  owa = owa,
  qnorm = list(p = num(qp), q = num(qnorm(qp)))
)
json <- to_json(golden)
back <- fromJSON(json, simplifyVector = TRUE)
stopifnot(identical(back$cases$theta$point[[1]], unclass(results[[1]]$theta$point))) # 17 digits round-trip
writeLines(json, out)
cat("wrote", out, "\n")
