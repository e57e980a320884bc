//! `opentelemetry.proto.trace.v1` in protobuf: `Span` with its `Status`,
//! `Event`s and `Link`s (field numbers next to each arm). The envelope
//! (`ResourceSpans`, `ScopeSpans`) is [`super`]'s; attributes are
//! [`super::common`]'s.

use super::common::push_attr;
use super::wire::{Reader, Result};
use crate::model::{Event, Link, Span};

pub(super) fn span<'a>(mut r: Reader<'a, '_>) -> Result<Span<'a>> {
    let mut s = Span::default();
    let attrs = r.attrs_mark();
    while r.has_more() {
        let (field, wire) = r.key()?;
        match field {
            1 => s.trace_id = r.f_id(wire, "Span.trace_id")?,
            2 => s.span_id = r.f_id(wire, "Span.span_id")?,
            3 => s.trace_state = r.f_str(wire, "Span.trace_state")?,
            4 => s.parent_span_id = r.f_id(wire, "Span.parent_span_id")?,
            16 => s.flags = r.f_fixed32(wire, "Span.flags")?,
            5 => s.name = r.f_str(wire, "Span.name")?,
            6 => s.kind = r.f_i32(wire, "Span.kind")?,
            7 => s.start_time_unix_nano = r.f_fixed64(wire, "Span.start_time_unix_nano")?,
            8 => s.end_time_unix_nano = r.f_fixed64(wire, "Span.end_time_unix_nano")?,
            9 => push_attr(&mut r, wire, "Span.attributes")?,
            10 => s.dropped_attributes_count = r.f_u32(wire, "Span.dropped_attributes_count")?,
            11 => s
                .events
                .push(event(r.f_elem::<Event>(wire, "Span.events")?)?),
            12 => s.dropped_events_count = r.f_u32(wire, "Span.dropped_events_count")?,
            13 => s.links.push(link(r.f_elem::<Link>(wire, "Span.links")?)?),
            14 => s.dropped_links_count = r.f_u32(wire, "Span.dropped_links_count")?,
            15 => {
                let mut st = r.f_msg(wire, "Span.status")?;
                while st.has_more() {
                    let (field, wire) = st.key()?;
                    match field {
                        2 => s.status_message = st.f_str(wire, "Status.message")?,
                        3 => s.status_code = st.f_i32(wire, "Status.code")?,
                        _ => st.skip(wire)?,
                    }
                }
            }
            _ => r.skip(wire)?,
        }
    }
    r.attrs_into(attrs, &mut s.attributes);
    Ok(s)
}

fn event<'a>(mut r: Reader<'a, '_>) -> Result<Event<'a>> {
    let mut e = Event::default();
    let attrs = r.attrs_mark();
    while r.has_more() {
        let (field, wire) = r.key()?;
        match field {
            1 => e.time_unix_nano = r.f_fixed64(wire, "Event.time_unix_nano")?,
            2 => e.name = r.f_str(wire, "Event.name")?,
            3 => push_attr(&mut r, wire, "Event.attributes")?,
            4 => e.dropped_attributes_count = r.f_u32(wire, "Event.dropped_attributes_count")?,
            _ => r.skip(wire)?,
        }
    }
    r.attrs_into(attrs, &mut e.attributes);
    Ok(e)
}

fn link<'a>(mut r: Reader<'a, '_>) -> Result<Link<'a>> {
    let mut l = Link::default();
    let attrs = r.attrs_mark();
    while r.has_more() {
        let (field, wire) = r.key()?;
        match field {
            1 => l.trace_id = r.f_id(wire, "Link.trace_id")?,
            2 => l.span_id = r.f_id(wire, "Link.span_id")?,
            3 => l.trace_state = r.f_str(wire, "Link.trace_state")?,
            4 => push_attr(&mut r, wire, "Link.attributes")?,
            5 => l.dropped_attributes_count = r.f_u32(wire, "Link.dropped_attributes_count")?,
            6 => l.flags = r.f_fixed32(wire, "Link.flags")?,
            _ => r.skip(wire)?,
        }
    }
    r.attrs_into(attrs, &mut l.attributes);
    Ok(l)
}
