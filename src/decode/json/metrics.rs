//! `opentelemetry.proto.metrics.v1` in OTLP/JSON: `Metric`, its five data
//! messages (one generic reader, [`DataOf`]), their data points,
//! exponential-histogram `Buckets`, summary quantiles and `Exemplar`s. The
//! envelope is [`super`]'s; attributes are [`super::value`]'s.

use serde::de::MapAccess;

use super::fields::field;
use super::scalar::{nums, Bool, Enum, Id, TemporalityNames, F64, I32, I64, S, U32, U64};
use super::value::attrs;
use super::visit::{list, obj, skip, Ctx, JsonObject};
use crate::model::*;

impl<'de> JsonObject<'de> for Metric<'de> {
    const WHAT: &'static str = "Metric";
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: &Ctx<'_>,
    ) -> Result<(), A::Error> {
        match key {
            "name" => self.name = map.next_value::<S>()?.0,
            "description" => self.description = map.next_value::<S>()?.0,
            "unit" => self.unit = map.next_value::<S>()?.0,
            "metadata" => self.metadata = attrs(map, ctx)?,
            "gauge" => {
                let d: DataOf<NumberDataPoint> = map.next_value_seed(obj(ctx))?;
                self.data = MetricData::Gauge(d.points);
            }
            "sum" => {
                let d: DataOf<NumberDataPoint> = map.next_value_seed(obj(ctx))?;
                self.data = MetricData::Sum {
                    points: d.points,
                    temporality: d.temporality,
                    monotonic: d.monotonic,
                };
            }
            "histogram" => {
                let d: DataOf<HistogramDataPoint> = map.next_value_seed(obj(ctx))?;
                self.data = MetricData::Histogram {
                    points: d.points,
                    temporality: d.temporality,
                };
            }
            field!(exponential_histogram) => {
                let d: DataOf<ExpHistogramDataPoint> = map.next_value_seed(obj(ctx))?;
                self.data = MetricData::ExponentialHistogram {
                    points: d.points,
                    temporality: d.temporality,
                };
            }
            "summary" => {
                let d: DataOf<SummaryDataPoint> = map.next_value_seed(obj(ctx))?;
                self.data = MetricData::Summary(d.points);
            }
            _ => skip(map)?,
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

impl<'de, T: JsonObject<'de>> JsonObject<'de> for DataOf<T> {
    const WHAT: &'static str = "metric data";
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: &Ctx<'_>,
    ) -> Result<(), A::Error> {
        match key {
            field!(data_points) => self.points = list(map, ctx)?,
            field!(aggregation_temporality) => {
                self.temporality = map.next_value::<Enum<TemporalityNames>>()?.0
            }
            field!(is_monotonic) => self.monotonic = map.next_value::<Bool>()?.0,
            _ => skip(map)?,
        }
        Ok(())
    }
}

impl<'de> JsonObject<'de> for NumberDataPoint<'de> {
    const WHAT: &'static str = "NumberDataPoint";
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: &Ctx<'_>,
    ) -> Result<(), A::Error> {
        match key {
            "attributes" => self.attributes = attrs(map, ctx)?,
            field!(start_time_unix_nano) => self.start_time_unix_nano = map.next_value::<U64>()?.0,
            field!(time_unix_nano) => self.time_unix_nano = map.next_value::<U64>()?.0,
            field!(as_double) => self.value = Number::Double(map.next_value::<F64>()?.0),
            field!(as_int) => self.value = Number::Int(map.next_value::<I64>()?.0),
            "exemplars" => self.exemplars = list(map, ctx)?,
            "flags" => self.flags = map.next_value::<U32>()?.0,
            _ => skip(map)?,
        }
        Ok(())
    }
}

impl<'de> JsonObject<'de> for HistogramDataPoint<'de> {
    const WHAT: &'static str = "HistogramDataPoint";
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: &Ctx<'_>,
    ) -> Result<(), A::Error> {
        match key {
            "attributes" => self.attributes = attrs(map, ctx)?,
            field!(start_time_unix_nano) => self.start_time_unix_nano = map.next_value::<U64>()?.0,
            field!(time_unix_nano) => self.time_unix_nano = map.next_value::<U64>()?.0,
            "count" => self.count = map.next_value::<U64>()?.0,
            "sum" => self.sum = map.next_value::<Option<F64>>()?.map(|v| v.0),
            field!(bucket_counts) => self.bucket_counts = nums::<U64, _>(map, ctx)?,
            field!(explicit_bounds) => self.explicit_bounds = nums::<F64, _>(map, ctx)?,
            "exemplars" => self.exemplars = list(map, ctx)?,
            "flags" => self.flags = map.next_value::<U32>()?.0,
            "min" => self.min = map.next_value::<Option<F64>>()?.map(|v| v.0),
            "max" => self.max = map.next_value::<Option<F64>>()?.map(|v| v.0),
            _ => skip(map)?,
        }
        Ok(())
    }
}

impl<'de> JsonObject<'de> for ExpHistogramDataPoint<'de> {
    const WHAT: &'static str = "ExponentialHistogramDataPoint";
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: &Ctx<'_>,
    ) -> Result<(), A::Error> {
        match key {
            "attributes" => self.attributes = attrs(map, ctx)?,
            field!(start_time_unix_nano) => self.start_time_unix_nano = map.next_value::<U64>()?.0,
            field!(time_unix_nano) => self.time_unix_nano = map.next_value::<U64>()?.0,
            "count" => self.count = map.next_value::<U64>()?.0,
            "sum" => self.sum = map.next_value::<Option<F64>>()?.map(|v| v.0),
            "scale" => self.scale = map.next_value::<I32>()?.0,
            field!(zero_count) => self.zero_count = map.next_value::<U64>()?.0,
            "positive" => self.positive = map.next_value_seed(obj(ctx))?,
            "negative" => self.negative = map.next_value_seed(obj(ctx))?,
            "flags" => self.flags = map.next_value::<U32>()?.0,
            "exemplars" => self.exemplars = list(map, ctx)?,
            "min" => self.min = map.next_value::<Option<F64>>()?.map(|v| v.0),
            "max" => self.max = map.next_value::<Option<F64>>()?.map(|v| v.0),
            field!(zero_threshold) => self.zero_threshold = map.next_value::<F64>()?.0,
            _ => skip(map)?,
        }
        Ok(())
    }
}

impl<'de> JsonObject<'de> for Buckets {
    const WHAT: &'static str = "Buckets";
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: &Ctx<'_>,
    ) -> Result<(), A::Error> {
        match key {
            "offset" => self.offset = map.next_value::<I32>()?.0,
            field!(bucket_counts) => self.bucket_counts = nums::<U64, _>(map, ctx)?,
            _ => skip(map)?,
        }
        Ok(())
    }
}

impl<'de> JsonObject<'de> for SummaryDataPoint<'de> {
    const WHAT: &'static str = "SummaryDataPoint";
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: &Ctx<'_>,
    ) -> Result<(), A::Error> {
        match key {
            "attributes" => self.attributes = attrs(map, ctx)?,
            field!(start_time_unix_nano) => self.start_time_unix_nano = map.next_value::<U64>()?.0,
            field!(time_unix_nano) => self.time_unix_nano = map.next_value::<U64>()?.0,
            "count" => self.count = map.next_value::<U64>()?.0,
            "sum" => self.sum = map.next_value::<F64>()?.0,
            field!(quantile_values) => self.quantile_values = list(map, ctx)?,
            "flags" => self.flags = map.next_value::<U32>()?.0,
            _ => skip(map)?,
        }
        Ok(())
    }
}

impl<'de> JsonObject<'de> for ValueAtQuantile {
    const WHAT: &'static str = "ValueAtQuantile";
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        _: &Ctx<'_>,
    ) -> Result<(), A::Error> {
        match key {
            "quantile" => self.quantile = map.next_value::<F64>()?.0,
            "value" => self.value = map.next_value::<F64>()?.0,
            _ => skip(map)?,
        }
        Ok(())
    }
}

impl<'de> JsonObject<'de> for Exemplar<'de> {
    const WHAT: &'static str = "Exemplar";
    fn field<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: &Ctx<'_>,
    ) -> Result<(), A::Error> {
        match key {
            field!(filtered_attributes) => self.filtered_attributes = attrs(map, ctx)?,
            field!(time_unix_nano) => self.time_unix_nano = map.next_value::<U64>()?.0,
            field!(as_double) => self.value = Number::Double(map.next_value::<F64>()?.0),
            field!(as_int) => self.value = Number::Int(map.next_value::<I64>()?.0),
            field!(span_id) => self.span_id = map.next_value::<Id<8>>()?.0,
            field!(trace_id) => self.trace_id = map.next_value::<Id<16>>()?.0,
            _ => skip(map)?,
        }
        Ok(())
    }
}
