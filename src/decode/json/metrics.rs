//! `opentelemetry.proto.metrics.v1` in OTLP/JSON: `Metric`, its five data
//! messages (one generic reader, [`DataOf`]), their data points,
//! exponential-histogram `Buckets`, summary quantiles and `Exemplar`s. The
//! envelope is [`super`]'s; attributes are [`super::value`]'s.

use super::fields::field;
use super::lex::Parser;
use super::scalar::TemporalityNames;
use super::value::attrs;
use super::visit::{list, obj, JsonObject};
use crate::error::Result;
use crate::model::*;

impl<'a> JsonObject<'a> for Metric<'a> {
    const WHAT: &'static str = "Metric";
    fn field(&mut self, key: &str, p: &mut Parser<'a, '_>) -> Result<()> {
        // A `null` member of the data `oneof` sets none (nor drops the
        // points of the member set before it).
        let data = matches!(
            key,
            "gauge" | "sum" | "histogram" | field!(exponential_histogram) | "summary"
        );
        if data && p.null_next() {
            return p.skip();
        }
        match key {
            "name" => self.name = p.str()?,
            "description" => self.description = p.str()?,
            "unit" => self.unit = p.str()?,
            "metadata" => self.metadata = attrs(p)?,
            "gauge" => {
                let d: DataOf<NumberDataPoint> = obj(p)?;
                self.data = MetricData::Gauge(d.points);
            }
            "sum" => {
                let d: DataOf<NumberDataPoint> = obj(p)?;
                self.data = MetricData::Sum {
                    points: d.points,
                    temporality: d.temporality,
                    monotonic: d.monotonic,
                };
            }
            "histogram" => {
                let d: DataOf<HistogramDataPoint> = obj(p)?;
                self.data = MetricData::Histogram {
                    points: d.points,
                    temporality: d.temporality,
                };
            }
            field!(exponential_histogram) => {
                let d: DataOf<ExpHistogramDataPoint> = obj(p)?;
                self.data = MetricData::ExponentialHistogram {
                    points: d.points,
                    temporality: d.temporality,
                };
            }
            "summary" => {
                let d: DataOf<SummaryDataPoint> = obj(p)?;
                self.data = MetricData::Summary(d.points);
            }
            _ => p.skip()?,
        }
        Ok(())
    }
}

/// `Gauge`, `Sum`, `Histogram`, `ExponentialHistogram` or `Summary`: the
/// data points plus the fields some of them carry.
pub(super) struct DataOf<T> {
    points: Vec<T>,
    temporality: i32,
    monotonic: bool,
}

impl<T> Default for DataOf<T> {
    fn default() -> Self {
        DataOf {
            points: Vec::new(),
            temporality: 0,
            monotonic: false,
        }
    }
}

impl<'a, T: JsonObject<'a>> JsonObject<'a> for DataOf<T> {
    const WHAT: &'static str = "metric data";
    fn field(&mut self, key: &str, p: &mut Parser<'a, '_>) -> Result<()> {
        match key {
            field!(data_points) => self.points = list(p)?,
            field!(aggregation_temporality) => {
                self.temporality = p.enumeration::<TemporalityNames>()?
            }
            field!(is_monotonic) => self.monotonic = p.bool()?,
            _ => p.skip()?,
        }
        Ok(())
    }
}

impl<'a> JsonObject<'a> for NumberDataPoint<'a> {
    const WHAT: &'static str = "NumberDataPoint";
    fn field(&mut self, key: &str, p: &mut Parser<'a, '_>) -> Result<()> {
        if matches!(key, field!(as_double) | field!(as_int)) && p.null_next() {
            return p.skip(); // a `null` member of the value `oneof` sets none
        }
        match key {
            "attributes" => self.attributes = attrs(p)?,
            field!(start_time_unix_nano) => self.start_time_unix_nano = p.int()?,
            field!(time_unix_nano) => self.time_unix_nano = p.int()?,
            field!(as_double) => self.value = Number::Double(p.f64()?),
            field!(as_int) => self.value = Number::Int(p.int()?),
            "exemplars" => self.exemplars = list(p)?,
            "flags" => self.flags = p.int()?,
            _ => p.skip()?,
        }
        Ok(())
    }
}

impl<'a> JsonObject<'a> for HistogramDataPoint<'a> {
    const WHAT: &'static str = "HistogramDataPoint";
    fn field(&mut self, key: &str, p: &mut Parser<'a, '_>) -> Result<()> {
        match key {
            "attributes" => self.attributes = attrs(p)?,
            field!(start_time_unix_nano) => self.start_time_unix_nano = p.int()?,
            field!(time_unix_nano) => self.time_unix_nano = p.int()?,
            "count" => self.count = p.int()?,
            "sum" => self.sum = p.opt_f64()?,
            field!(bucket_counts) => self.bucket_counts = p.nums(Parser::int)?,
            field!(explicit_bounds) => self.explicit_bounds = p.nums(Parser::f64)?,
            "exemplars" => self.exemplars = list(p)?,
            "flags" => self.flags = p.int()?,
            "min" => self.min = p.opt_f64()?,
            "max" => self.max = p.opt_f64()?,
            _ => p.skip()?,
        }
        Ok(())
    }
}

impl<'a> JsonObject<'a> for ExpHistogramDataPoint<'a> {
    const WHAT: &'static str = "ExponentialHistogramDataPoint";
    fn field(&mut self, key: &str, p: &mut Parser<'a, '_>) -> Result<()> {
        match key {
            "attributes" => self.attributes = attrs(p)?,
            field!(start_time_unix_nano) => self.start_time_unix_nano = p.int()?,
            field!(time_unix_nano) => self.time_unix_nano = p.int()?,
            "count" => self.count = p.int()?,
            "sum" => self.sum = p.opt_f64()?,
            "scale" => self.scale = p.int()?,
            field!(zero_count) => self.zero_count = p.int()?,
            "positive" => self.positive = obj(p)?,
            "negative" => self.negative = obj(p)?,
            "flags" => self.flags = p.int()?,
            "exemplars" => self.exemplars = list(p)?,
            "min" => self.min = p.opt_f64()?,
            "max" => self.max = p.opt_f64()?,
            field!(zero_threshold) => self.zero_threshold = p.f64()?,
            _ => p.skip()?,
        }
        Ok(())
    }
}

impl<'a> JsonObject<'a> for Buckets {
    const WHAT: &'static str = "Buckets";
    fn field(&mut self, key: &str, p: &mut Parser<'a, '_>) -> Result<()> {
        match key {
            "offset" => self.offset = p.int()?,
            field!(bucket_counts) => self.bucket_counts = p.nums(Parser::int)?,
            _ => p.skip()?,
        }
        Ok(())
    }
}

impl<'a> JsonObject<'a> for SummaryDataPoint<'a> {
    const WHAT: &'static str = "SummaryDataPoint";
    fn field(&mut self, key: &str, p: &mut Parser<'a, '_>) -> Result<()> {
        match key {
            "attributes" => self.attributes = attrs(p)?,
            field!(start_time_unix_nano) => self.start_time_unix_nano = p.int()?,
            field!(time_unix_nano) => self.time_unix_nano = p.int()?,
            "count" => self.count = p.int()?,
            "sum" => self.sum = p.f64()?,
            field!(quantile_values) => self.quantile_values = list(p)?,
            "flags" => self.flags = p.int()?,
            _ => p.skip()?,
        }
        Ok(())
    }
}

impl<'a> JsonObject<'a> for ValueAtQuantile {
    const WHAT: &'static str = "ValueAtQuantile";
    fn field(&mut self, key: &str, p: &mut Parser<'a, '_>) -> Result<()> {
        match key {
            "quantile" => self.quantile = p.f64()?,
            "value" => self.value = p.f64()?,
            _ => p.skip()?,
        }
        Ok(())
    }
}

impl<'a> JsonObject<'a> for Exemplar<'a> {
    const WHAT: &'static str = "Exemplar";
    fn field(&mut self, key: &str, p: &mut Parser<'a, '_>) -> Result<()> {
        if matches!(key, field!(as_double) | field!(as_int)) && p.null_next() {
            return p.skip(); // a `null` member of the value `oneof` sets none
        }
        match key {
            field!(filtered_attributes) => self.filtered_attributes = attrs(p)?,
            field!(time_unix_nano) => self.time_unix_nano = p.int()?,
            field!(as_double) => self.value = Number::Double(p.f64()?),
            field!(as_int) => self.value = Number::Int(p.int()?),
            field!(span_id) => self.span_id = p.id::<8>()?,
            field!(trace_id) => self.trace_id = p.id::<16>()?,
            _ => p.skip()?,
        }
        Ok(())
    }
}
