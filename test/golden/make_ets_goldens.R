# Goldens for src/forecast/baselines/ets.ts from R's forecast::ets (Hyndman et al. 2008).
# Regenerate (from the repository root):  Rscript test/golden/make_ets_goldens.R
# Writes test/golden/ets-goldens.json. Needs R with the 'forecast' package (Debian: r-cran-forecast).
#
# For each series: a few fixed models, each fitted by R (its parameters, initial states, criteria,
# fitted values, final state, point forecasts and 80/95 % intervals: the test runs our filter and
# forecast with R's parameters and must reproduce them), and R's automatic choice (ets() with the
# defaults: model "ZZZ", ic "aicc", bounds "both", restrict TRUE, no multiplicative trend).
# Numbers are written by hand with 17 significant digits (jsonlite prints 15), so they round-trip.
suppressMessages(library(forecast))

# forecast <= 8.20 (Debian's) puts the seasonal smoothing weight gamma on the third state in
# class1's G even when there is no trend state, so the interval widths of ETS(A,N,A) and ETS(M,N,A)
# come out wrong. Upstream fixed it (robjhyndman/forecast commit 84689588, "correct seasonal
# disturbance index": G[p - m + 1, 1]); use the fixed function so the goldens hold the right values.
class1_fixed <- forecast:::class1
body_text <- deparse(body(class1_fixed))
stopifnot(sum(grepl("G[3, 1] <- par[\"gamma\"]", body_text, fixed = TRUE)) == 1)
body(class1_fixed) <- parse(text = sub("G[3, 1] <- par[\"gamma\"]", "G[p - m + 1, 1] <- par[\"gamma\"]",
                                       body_text, fixed = TRUE))[[1]]
environment(class1_fixed) <- asNamespace("forecast")
assignInNamespace("class1", class1_fixed, ns = "forecast")

num <- function(x) {
  ifelse(is.finite(x), sprintf("%.17g", x), "null")
}
to_json <- function(x, indent = "") {
  inner <- paste0(indent, "  ")
  if (is.null(x)) return("null")
  if (is.list(x)) {
    keys <- names(x)
    if (is.null(keys)) {
      items <- vapply(x, to_json, "", indent = inner)
      return(paste0("[\n", inner, paste(items, collapse = paste0(",\n", inner)), "\n", indent, "]"))
    }
    items <- vapply(seq_along(x), function(i) paste0('"', keys[i], '": ', to_json(x[[i]], inner)), "")
    return(paste0("{\n", inner, paste(items, collapse = paste0(",\n", inner)), "\n", indent, "}"))
  }
  if (is.character(x)) {
    s <- paste0('"', x, '"')
    return(if (length(x) == 1 && is.null(attr(x, "array"))) s else paste0("[", paste(s, collapse = ", "), "]"))
  }
  if (is.logical(x) && length(x) == 1) return(if (x) "true" else "false")
  if (length(x) == 1 && is.null(attr(x, "array"))) return(num(as.numeric(x)))
  x <- as.numeric(x)
  paste0("[", paste(num(x), collapse = ", "), "]")
}
# A numeric vector that must stay a JSON array even with one element.
arr <- function(x) structure(as.numeric(x), array = TRUE)

levels <- c(80, 95)

intervals <- function(fc) {
  lapply(seq_along(levels), function(i) list(
    level = levels[i], lo = arr(fc$lower[, i]), hi = arr(fc$upper[, i])))
}

par_list <- function(fit) {
  p <- fit$par
  get <- function(k) if (k %in% names(p)) unname(p[k]) else NULL
  out <- list(alpha = get("alpha"))
  if (!is.null(get("beta"))) out$beta <- get("beta")
  if (!is.null(get("gamma"))) out$gamma <- get("gamma")
  if (!is.null(get("phi"))) out$phi <- get("phi")
  out
}

describe_fit <- function(fit, h) {
  fc <- forecast(fit, h = h, level = levels)
  n <- length(fit$x)
  list(
    model = fit$method,
    par = par_list(fit),
    initstate = arr(fit$initstate),
    loglik = fit$loglik,
    aic = fit$aic,
    aicc = fit$aicc,
    bic = fit$bic,
    sigma2 = fit$sigma2,
    fitted = arr(fitted(fit)),
    finalstate = arr(fit$states[n + 1, ]),
    point = arr(fc$mean),
    intervals = intervals(fc)
  )
}

# model code as ets() takes it, plus damping: "MAdM" -> model "MAM", damped TRUE
fit_fixed <- function(y, code) {
  damped <- grepl("d", code)
  model <- gsub("d", "", code)
  ets(y, model = model, damped = damped)
}

series <- list(
  list(name = "AirPassengers", y = AirPassengers, h = 24,
       fixed = c("MAdM", "MAM", "MNM", "AAA")),
  list(name = "USAccDeaths", y = USAccDeaths, h = 24,
       fixed = c("ANA", "AAdA", "MNA", "MAdA")),
  list(name = "UKgas", y = UKgas, h = 8,
       fixed = c("MAM", "AAA", "MAdM")),
  list(name = "Nile", y = Nile, h = 10,
       fixed = c("ANN", "MNN")),
  list(name = "WWWusage", y = WWWusage, h = 10,
       fixed = c("AAdN", "AAN", "MAN", "MAdN")),
  # shorter than 3 seasons: R's initial states come from a regression on a trend and one Fourier pair
  list(name = "USAccDeaths[1:30]", y = ts(USAccDeaths[1:30], frequency = 12, start = c(1973, 1)), h = 12,
       fixed = c("ANA", "MNM")),
  # non-positive values: only additive-error models are allowed
  list(name = "diff(USAccDeaths)", y = diff(USAccDeaths), h = 12,
       fixed = c("ANA", "AAdA")),
  list(name = "LakeHuron-579", y = LakeHuron - 579, h = 10,
       fixed = c("ANN", "AAdN")),
  # automatic choice only: more of R's monthly, quarterly and yearly series
  list(name = "ldeaths", y = ldeaths, h = 24, fixed = character(0)),
  list(name = "mdeaths", y = mdeaths, h = 24, fixed = character(0)),
  list(name = "co2", y = co2, h = 24, fixed = character(0)),
  list(name = "nottem", y = nottem, h = 24, fixed = character(0)),
  list(name = "UKDriverDeaths", y = UKDriverDeaths, h = 24, fixed = character(0)),
  list(name = "wineind", y = wineind, h = 24, fixed = character(0)),
  list(name = "JohnsonJohnson", y = JohnsonJohnson, h = 8, fixed = character(0)),
  list(name = "austres", y = austres, h = 8, fixed = character(0)),
  list(name = "woolyrnq", y = woolyrnq, h = 8, fixed = character(0)),
  list(name = "BJsales", y = BJsales, h = 10, fixed = character(0)),
  list(name = "lynx", y = lynx, h = 10, fixed = character(0))
)

out <- lapply(series, function(s) {
  cat(s$name, "\n")
  auto <- ets(s$y)
  list(
    name = s$name,
    season = frequency(s$y),
    horizon = s$h,
    y = arr(s$y),
    fixed = lapply(s$fixed, function(code) describe_fit(fit_fixed(s$y, code), s$h)),
    auto = describe_fit(auto, s$h)
  )
})

doc <- list(
  source = paste0("R ", R.version$major, ".", R.version$minor, ", forecast ",
                  as.character(packageVersion("forecast")), "; test/golden/make_ets_goldens.R"),
  levels = arr(levels),
  series = out
)
writeLines(to_json(doc), "test/golden/ets-goldens.json")
cat("wrote test/golden/ets-goldens.json\n")
