//! `opentelemetry.proto.metrics.v1` in protobuf: `Metric`, its five data
//! messages (read by one generic loop, [`data`]), their data points,
//! exponential-histogram `Buckets`, summary quantiles and `Exemplar`s
//! (field numbers next to each arm). The envelope (`ResourceMetrics`,
//! `ScopeMetrics`) is [`super`]'s; attributes are [`super::common`]'s.

use super::common::push_attr;
use super::wire::{Reader, Result};
use crate::model::*;

/// `new`, a data message just read, into `data`, as protobuf parses a
/// oneof member seen again: the same member merges (its points appended,
/// its scalars taken when set), another member replaces it.
fn merge<'a>(data: &mut MetricData<'a>, new: MetricData<'a>) {
    use MetricData as D;
    let taken = |old: &mut i32, new: i32| {
        if new != 0 {
            *old = new;
        }
    };
    match (&mut *data, new) {
        (D::Gauge(a), D::Gauge(b)) => a.extend(b),
        (D::Summary(a), D::Summary(b)) => a.extend(b),
        (
            D::Sum {
                points: a,
                temporality: t,
                monotonic: m,
            },
            D::Sum {
                points: b,
                temporality: u,
                monotonic: n,
            },
        ) => {
            a.extend(b);
            taken(t, u);
            *m |= n;
        }
        (
            D::Histogram {
                points: a,
                temporality: t,
            },
            D::Histogram {
                points: b,
                temporality: u,
            },
        ) => {
            a.extend(b);
            taken(t, u);
        }
        (
            D::ExponentialHistogram {
                points: a,
                temporality: t,
            },
            D::ExponentialHistogram {
                points: b,
                temporality: u,
            },
        ) => {
            a.extend(b);
            taken(t, u);
        }
        (_, new) => *data = new,
    }
}

pub(super) fn metric<'a>(mut r: Reader<'a, '_>) -> Result<Metric<'a>> {
    let mut m = Metric::default();
    let attrs = r.attrs_mark();
    while r.has_more() {
        let (field, wire) = r.key()?;
        match field {
            1 => m.name = r.f_str(wire, "Metric.name")?,
            2 => m.description = r.f_str(wire, "Metric.description")?,
            3 => m.unit = r.f_str(wire, "Metric.unit")?,
            12 => push_attr(&mut r, wire, "Metric.metadata")?,
            5 => {
                let d = data(r.f_msg(wire, "Metric.gauge")?, &GAUGE, number_point)?;
                merge(&mut m.data, MetricData::Gauge(d.points));
            }
            7 => {
                let d = data(r.f_msg(wire, "Metric.sum")?, &SUM, number_point)?;
                let sum = MetricData::Sum {
                    points: d.points,
                    temporality: d.temporality,
                    monotonic: d.monotonic,
                };
                merge(&mut m.data, sum);
            }
            9 => {
                let d = data(
                    r.f_msg(wire, "Metric.histogram")?,
                    &HISTOGRAM,
                    histogram_point,
                )?;
                let histogram = MetricData::Histogram {
                    points: d.points,
                    temporality: d.temporality,
                };
                merge(&mut m.data, histogram);
            }
            10 => {
                let h = r.f_msg(wire, "Metric.exponential_histogram")?;
                let d = data(h, &EXP_HISTOGRAM, exp_histogram_point)?;
                let histogram = MetricData::ExponentialHistogram {
                    points: d.points,
                    temporality: d.temporality,
                };
                merge(&mut m.data, histogram);
            }
            11 => {
                let d = data(r.f_msg(wire, "Metric.summary")?, &SUMMARY, summary_point)?;
                merge(&mut m.data, MetricData::Summary(d.points));
            }
            _ => r.skip(wire)?,
        }
    }
    r.attrs_into(attrs, &mut m.metadata);
    Ok(m)
}

/// The layout of one of the five data messages: all have `data_points` as
/// field 1; some have `aggregation_temporality` (2) and `is_monotonic` (3).
/// A field a message does not have is `None`, and skipped as unknown.
struct DataFields {
    points: &'static str,
    temporality: Option<&'static str>,
    monotonic: Option<&'static str>,
}

const GAUGE: DataFields = DataFields {
    points: "Gauge.data_points",
    temporality: None,
    monotonic: None,
};
const SUM: DataFields = DataFields {
    points: "Sum.data_points",
    temporality: Some("Sum.aggregation_temporality"),
    monotonic: Some("Sum.is_monotonic"),
};
const HISTOGRAM: DataFields = DataFields {
    points: "Histogram.data_points",
    temporality: Some("Histogram.aggregation_temporality"),
    monotonic: None,
};
const EXP_HISTOGRAM: DataFields = DataFields {
    points: "ExponentialHistogram.data_points",
    temporality: Some("ExponentialHistogram.aggregation_temporality"),
    monotonic: None,
};
const SUMMARY: DataFields = DataFields {
    points: "Summary.data_points",
    temporality: None,
    monotonic: None,
};

/// A data message read by [`data`]: its points and the fields some carry
/// (0 and `false` when absent).
struct Data<P> {
    points: Vec<P>,
    temporality: i32,
    monotonic: bool,
}

/// Reads `Gauge`, `Sum`, `Histogram`, `ExponentialHistogram` or `Summary`
/// as `fields` lays it out, each data point with `point` (charged first).
fn data<'a, P>(
    mut r: Reader<'a, '_>,
    fields: &DataFields,
    point: impl Fn(Reader<'a, '_>) -> Result<P>,
) -> Result<Data<P>> {
    let (mut points, mut temporality, mut monotonic) = (Vec::new(), 0, false);
    while r.has_more() {
        let (field, wire) = r.key()?;
        match (field, fields.temporality, fields.monotonic) {
            (1, _, _) => points.push(point(r.f_elem::<P>(wire, fields.points)?)?),
            (2, Some(what), _) => temporality = r.f_i32(wire, what)?,
            (3, _, Some(what)) => monotonic = r.f_bool(wire, what)?,
            _ => r.skip(wire)?,
        }
    }
    Ok(Data {
        points,
        temporality,
        monotonic,
    })
}

fn number_point<'a>(mut r: Reader<'a, '_>) -> Result<NumberDataPoint<'a>> {
    let mut p = NumberDataPoint::default();
    let attrs = r.attrs_mark();
    while r.has_more() {
        let (field, wire) = r.key()?;
        match field {
            7 => push_attr(&mut r, wire, "NumberDataPoint.attributes")?,
            2 => {
                p.start_time_unix_nano =
                    r.f_fixed64(wire, "NumberDataPoint.start_time_unix_nano")?
            }
            3 => p.time_unix_nano = r.f_fixed64(wire, "NumberDataPoint.time_unix_nano")?,
            4 => p.value = Number::Double(r.f_double(wire, "NumberDataPoint.as_double")?),
            6 => p.value = Number::Int(r.f_fixed64(wire, "NumberDataPoint.as_int")? as i64),
            5 => p.exemplars.push(exemplar(
                r.f_elem::<Exemplar>(wire, "NumberDataPoint.exemplars")?,
            )?),
            8 => p.flags = r.f_u32(wire, "NumberDataPoint.flags")?,
            _ => r.skip(wire)?,
        }
    }
    r.attrs_into(attrs, &mut p.attributes);
    Ok(p)
}

fn histogram_point<'a>(mut r: Reader<'a, '_>) -> Result<HistogramDataPoint<'a>> {
    let mut p = HistogramDataPoint::default();
    let attrs = r.attrs_mark();
    while r.has_more() {
        let (field, wire) = r.key()?;
        match field {
            9 => push_attr(&mut r, wire, "HistogramDataPoint.attributes")?,
            2 => {
                p.start_time_unix_nano =
                    r.f_fixed64(wire, "HistogramDataPoint.start_time_unix_nano")?
            }
            3 => p.time_unix_nano = r.f_fixed64(wire, "HistogramDataPoint.time_unix_nano")?,
            4 => p.count = r.f_fixed64(wire, "HistogramDataPoint.count")?,
            5 => p.sum = Some(r.f_double(wire, "HistogramDataPoint.sum")?),
            6 => r.f_packed_fixed64(
                wire,
                "HistogramDataPoint.bucket_counts",
                &mut p.bucket_counts,
            )?,
            7 => r.f_packed_double(
                wire,
                "HistogramDataPoint.explicit_bounds",
                &mut p.explicit_bounds,
            )?,
            8 => p.exemplars.push(exemplar(
                r.f_elem::<Exemplar>(wire, "HistogramDataPoint.exemplars")?,
            )?),
            10 => p.flags = r.f_u32(wire, "HistogramDataPoint.flags")?,
            11 => p.min = Some(r.f_double(wire, "HistogramDataPoint.min")?),
            12 => p.max = Some(r.f_double(wire, "HistogramDataPoint.max")?),
            _ => r.skip(wire)?,
        }
    }
    r.attrs_into(attrs, &mut p.attributes);
    Ok(p)
}

fn exp_histogram_point<'a>(mut r: Reader<'a, '_>) -> Result<ExpHistogramDataPoint<'a>> {
    const W: &str = "ExponentialHistogramDataPoint";
    let mut p = ExpHistogramDataPoint::default();
    let attrs = r.attrs_mark();
    while r.has_more() {
        let (field, wire) = r.key()?;
        match field {
            1 => push_attr(&mut r, wire, W)?,
            2 => p.start_time_unix_nano = r.f_fixed64(wire, W)?,
            3 => p.time_unix_nano = r.f_fixed64(wire, W)?,
            4 => p.count = r.f_fixed64(wire, W)?,
            5 => p.sum = Some(r.f_double(wire, W)?),
            6 => p.scale = r.f_sint32(wire, W)?,
            7 => p.zero_count = r.f_fixed64(wire, W)?,
            8 => buckets(r.f_msg(wire, W)?, &mut p.positive)?,
            9 => buckets(r.f_msg(wire, W)?, &mut p.negative)?,
            10 => p.flags = r.f_u32(wire, W)?,
            11 => p.exemplars.push(exemplar(r.f_elem::<Exemplar>(wire, W)?)?),
            12 => p.min = Some(r.f_double(wire, W)?),
            13 => p.max = Some(r.f_double(wire, W)?),
            14 => p.zero_threshold = r.f_double(wire, W)?,
            _ => r.skip(wire)?,
        }
    }
    r.attrs_into(attrs, &mut p.attributes);
    Ok(p)
}

fn buckets(mut r: Reader<'_, '_>, out: &mut Buckets) -> Result<()> {
    while r.has_more() {
        let (field, wire) = r.key()?;
        match field {
            1 => out.offset = r.f_sint32(wire, "Buckets.offset")?,
            2 => r.f_packed_varint(wire, "Buckets.bucket_counts", &mut out.bucket_counts)?,
            _ => r.skip(wire)?,
        }
    }
    Ok(())
}

fn summary_point<'a>(mut r: Reader<'a, '_>) -> Result<SummaryDataPoint<'a>> {
    let mut p = SummaryDataPoint::default();
    let attrs = r.attrs_mark();
    while r.has_more() {
        let (field, wire) = r.key()?;
        match field {
            7 => push_attr(&mut r, wire, "SummaryDataPoint.attributes")?,
            2 => {
                p.start_time_unix_nano =
                    r.f_fixed64(wire, "SummaryDataPoint.start_time_unix_nano")?
            }
            3 => p.time_unix_nano = r.f_fixed64(wire, "SummaryDataPoint.time_unix_nano")?,
            4 => p.count = r.f_fixed64(wire, "SummaryDataPoint.count")?,
            5 => p.sum = r.f_double(wire, "SummaryDataPoint.sum")?,
            6 => {
                let mut q =
                    r.f_elem::<ValueAtQuantile>(wire, "SummaryDataPoint.quantile_values")?;
                let mut v = ValueAtQuantile::default();
                while q.has_more() {
                    let (field, wire) = q.key()?;
                    match field {
                        1 => v.quantile = q.f_double(wire, "ValueAtQuantile.quantile")?,
                        2 => v.value = q.f_double(wire, "ValueAtQuantile.value")?,
                        _ => q.skip(wire)?,
                    }
                }
                p.quantile_values.push(v);
            }
            8 => p.flags = r.f_u32(wire, "SummaryDataPoint.flags")?,
            _ => r.skip(wire)?,
        }
    }
    r.attrs_into(attrs, &mut p.attributes);
    Ok(p)
}

fn exemplar<'a>(mut r: Reader<'a, '_>) -> Result<Exemplar<'a>> {
    let mut e = Exemplar::default();
    let attrs = r.attrs_mark();
    while r.has_more() {
        let (field, wire) = r.key()?;
        match field {
            7 => push_attr(&mut r, wire, "Exemplar.filtered_attributes")?,
            2 => e.time_unix_nano = r.f_fixed64(wire, "Exemplar.time_unix_nano")?,
            3 => e.value = Number::Double(r.f_double(wire, "Exemplar.as_double")?),
            6 => e.value = Number::Int(r.f_fixed64(wire, "Exemplar.as_int")? as i64),
            4 => e.span_id = r.f_id(wire, "Exemplar.span_id")?,
            5 => e.trace_id = r.f_id(wire, "Exemplar.trace_id")?,
            _ => r.skip(wire)?,
        }
    }
    r.attrs_into(attrs, &mut e.filtered_attributes);
    Ok(e)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::decode::proto::tests::big;

    /// The one data loop reads fields 2 and 3 only where the message has
    /// them: in a `Gauge` they are unknown and skipped whatever their wire
    /// type; in a `Sum` a wrong wire type is an error naming the field.
    #[test]
    fn data_fields_follow_each_message_layout() {
        // field 2 and field 3 as length-delimited (wire type 2), empty.
        let body = [0x12, 0x00, 0x1a, 0x00];
        let b = big();
        let attrs = RefCell::default();
        let d = data(Reader::new(&body, &b, &attrs), &GAUGE, number_point).unwrap();
        assert!(d.points.is_empty() && d.temporality == 0 && !d.monotonic);
        let e = data(Reader::new(&body, &b, &attrs), &SUM, number_point)
            .err()
            .unwrap();
        assert!(
            e.to_string()
                .contains("Sum.aggregation_temporality has wire type"),
            "{e}"
        );
        // A Sum's temporality (2 = cumulative) and monotonic flag.
        let body = [0x10, 0x02, 0x18, 0x01];
        let d = data(Reader::new(&body, &b, &attrs), &SUM, number_point).unwrap();
        assert_eq!((d.temporality, d.monotonic), (2, true));
        let d = data(Reader::new(&body, &b, &attrs), &HISTOGRAM, histogram_point).unwrap();
        assert_eq!((d.temporality, d.monotonic), (2, false));
    }
}
