//! Column declarations: each table's columns are stated once, and that one
//! statement drives the Arrow schema, the sizing pass, the builders, the
//! fill and the finished arrays, in the same order.
//!
//! A table (or the item struct of a `List<Struct>` column) is declared with
//! [`columns!`] as a list of `Name: Kind => value` lines, where `value` is
//! an expression of the row being written. The [`Kind`] of a column says what
//! Arrow type it has, what its sizing pass counts, which builder fills it and
//! how the value is appended. From the one list the macro generates an
//! implementation of [`Columns`]: the fields in order, a plan struct and a
//! builder struct with one member per column, and `plan`/`push`/`finish`
//! that visit every column in the declared order. A column cannot be in the
//! schema without its builder, or be filled in another order.
//!
//! Everything is monomorphised, with no dynamic dispatch and no per-row
//! allocation, as hand-written builders would be. A table's batch is sized
//! row after row (nothing is allocated before the output check), then
//! filled a column at a time: one loop over the rows per column, which
//! touches one builder. Filled row after row, each row touched every
//! builder (some forty buffers); the column-at-a-time fill made the
//! Worker's 8,192-record requests 5–10 % faster in workerd, for 2–4 % more
//! instructions in this stage natively (`docs/performance.md`, 2026-12-02).
//! A list's item structs, a few per row, are filled item by item
//! ([`Columns::push`]).
//!
//! This module does not know any table: the declarations live with their
//! tables in `logs`, `traces` and `metrics`.

use std::marker::PhantomData;
use std::sync::Arc;

use arrow_array::types::{Float64Type, Int32Type, UInt32Type, UInt64Type, UInt8Type};
use arrow_array::{ArrayRef, ArrowPrimitiveType, BooleanArray, RecordBatch, StructArray};
use arrow_schema::{DataType, Field, Fields, TimeUnit};

use super::builders::{AttrsBuilder, FixedBuilder, ListOffsets, TextBuilder, TimeBuilder};
use super::context::RenderedAttrs;
use super::internal;
use super::render;
use super::size::{AttrsPlan, ListPlan};
use super::Context;
use crate::error::Result;
use crate::model::{AnyValue, KeyValue};
use crate::schema::{self, Table};

/// What a column holds and how it is sized, built and finished.
///
/// `Value` is what a declaration's expression yields for one row (a `&str`,
/// a number, a slice…). A kind's `plan` and `push` are called once per row
/// and are inlined into the table's loops.
pub(crate) trait Kind {
    /// One row's value, borrowed from the request for `'v`.
    type Value<'v>;
    /// What the sizing pass accumulates (`()` when the row count suffices).
    type Plan: Default;
    /// The pre-sized builder.
    type Builder;

    /// The column's Arrow field, named `name`, timestamps in `unit`.
    fn field(name: &str, unit: TimeUnit) -> Field;

    /// Adds one row's value to the plan.
    #[inline(always)]
    fn plan(_plan: &mut Self::Plan, _value: Self::Value<'_>) {}

    /// The bytes the plan adds to the output check, beyond the per-row
    /// allowance of [`Context::check_output`].
    #[inline]
    fn bytes(_plan: &Self::Plan) -> u64 {
        0
    }

    /// Allocates the builder of `rows` values from the plan.
    fn builder(rows: usize, plan: Self::Plan, unit: TimeUnit) -> Result<Self::Builder>;

    /// Appends one row's value.
    fn push(builder: &mut Self::Builder, value: Self::Value<'_>);

    /// The finished column.
    fn finish(builder: Self::Builder) -> Result<ArrayRef>;
}

/// A set of columns over one item type: a table over its rows, or the
/// struct of a `List<Struct>` column over its items. Implemented by
/// [`columns!`]; see there.
pub(crate) trait Columns {
    /// What one row (or list item) is read from.
    type Item<'x>: 'x;
    /// The plan of every column.
    type Plan: Default;
    /// The builder of every column.
    type Builders;
    /// Bytes counted per item by the output check when the set is a list's
    /// item struct (fixed-width members and offsets, which the per-row
    /// allowance of a table does not cover).
    const ITEM_BYTES: u64;

    /// The fields, in order.
    fn fields(unit: TimeUnit) -> Vec<Field>;
    /// Adds one item to every column's plan.
    fn plan(plan: &mut Self::Plan, item: &Self::Item<'_>);
    /// The bytes the plans add to the output check.
    fn bytes(plan: &Self::Plan) -> u64;
    /// Allocates every column's builder for `rows` items.
    fn builders(rows: usize, plan: Self::Plan, unit: TimeUnit) -> Result<Self::Builders>;
    /// Appends one item to every column, in order.
    fn push(builders: &mut Self::Builders, item: &Self::Item<'_>);
    /// Appends every item, a column at a time, in order.
    fn push_columns(builders: &mut Self::Builders, items: &[Self::Item<'_>]);
    /// The columns, in the order of [`Columns::fields`].
    fn finish(builders: Self::Builders) -> Result<Vec<ArrayRef>>;
}

/// Declares a set of columns (see the module header):
///
/// ```text
/// columns! {
///     /// What the set is.
///     pub(crate) mod name for<'x> RowView<'x> as |x| {
///         ColumnName: Kind => expression_of(x),     // in table order
///     }
/// }
/// // The item struct of a list column, with its per-item output allowance:
/// columns! {
///     pub(crate) mod item for<'x> Item<'x> as |i|, 16 bytes per item {
///         ColumnName: Kind => expression_of(i),
///     }
/// }
/// ```
///
/// It makes module `name` with `Set`, the [`Columns`] implementation.
/// Column names are the identifiers as written; `x` is a `&RowView`.
macro_rules! columns {
    (
        $(#[$meta:meta])*
        $vis:vis mod $set:ident for<$lt:lifetime> $item:ty as |$x:ident|
            $(, $item_bytes:literal bytes per item)? {
            $( $(#[$cmeta:meta])* $col:ident : $kind:ty => $value:expr ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[allow(non_snake_case)]
        $vis mod $set {
            #[allow(unused_imports)]
            use super::*;
            use $crate::batch::columns::{Columns, Kind};

            /// The column set.
            pub struct Set;

            /// The sizing plan of every column.
            pub struct Plan {
                $( $col: <$kind as Kind>::Plan, )+
            }

            impl Default for Plan {
                fn default() -> Self {
                    Plan { $( $col: Default::default(), )+ }
                }
            }

            /// The builder of every column.
            pub struct Builders {
                $( $(#[$cmeta])* $col: <$kind as Kind>::Builder, )+
            }

            impl Columns for Set {
                type Item<$lt> = $item;
                type Plan = Plan;
                type Builders = Builders;
                const ITEM_BYTES: u64 = 0 $( + $item_bytes )?;

                fn fields(unit: ::arrow_schema::TimeUnit) -> Vec<::arrow_schema::Field> {
                    vec![ $( <$kind as Kind>::field(stringify!($col), unit), )+ ]
                }

                #[inline(always)]
                fn plan(plan: &mut Plan, $x: &Self::Item<'_>) {
                    $( <$kind as Kind>::plan(&mut plan.$col, $value); )+
                }

                fn bytes(plan: &Plan) -> u64 {
                    0 $( + <$kind as Kind>::bytes(&plan.$col) )+
                }

                fn builders(
                    rows: usize,
                    plan: Plan,
                    unit: ::arrow_schema::TimeUnit,
                ) -> $crate::error::Result<Builders> {
                    Ok(Builders {
                        $( $col: <$kind as Kind>::builder(rows, plan.$col, unit)?, )+
                    })
                }

                #[inline(always)]
                fn push(builders: &mut Builders, $x: &Self::Item<'_>) {
                    $( <$kind as Kind>::push(&mut builders.$col, $value); )+
                }

                #[inline(always)]
                fn push_columns(builders: &mut Builders, items: &[Self::Item<'_>]) {
                    $( for $x in items { <$kind as Kind>::push(&mut builders.$col, $value); } )+
                }

                fn finish(
                    builders: Builders,
                ) -> $crate::error::Result<Vec<::arrow_array::ArrayRef>> {
                    Ok(vec![ $( <$kind as Kind>::finish(builders.$col)?, )+ ])
                }
            }
        }
    };
}
pub(crate) use columns;

/// Builds the batch of `table` from its column set `C` over `rows` (one
/// hour's chunk, sorted): a sizing pass over the rows as they come, the
/// output check, then (nothing is allocated before it) one allocation per
/// builder, the rows' views listed once, a fill pass a column at a time,
/// and the arrays.
pub(crate) fn build<'x, C: Columns>(
    table: Table,
    ctx: &Context<'_>,
    unit: TimeUnit,
    rows: impl ExactSizeIterator<Item = C::Item<'x>> + Clone,
) -> Result<RecordBatch> {
    let n = rows.len();
    let mut plan = C::Plan::default();
    for x in rows.clone() {
        C::plan(&mut plan, &x);
    }
    ctx.check_output(table, n, C::bytes(&plan))?;
    let mut builders = C::builders(n, plan, unit)?;
    let rows: Vec<C::Item<'x>> = rows.collect();
    C::push_columns(&mut builders, &rows);
    let schema = table.schema(unit);
    debug_assert_eq!(
        schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect::<Vec<_>>(),
        C::fields(unit),
        "{table:?} is built from another column set than its schema's"
    );
    Ok(RecordBatch::try_new(schema, C::finish(builders)?)?)
}

/// Plain fields: non-null `name` of type `t`.
fn plain(name: &str, t: DataType) -> Field {
    Field::new(name, t, false)
}

/// `Utf8`: a string as it is.
pub struct Text;

impl Kind for Text {
    type Value<'v> = &'v str;
    type Plan = u64;
    type Builder = TextBuilder;

    fn field(name: &str, _: TimeUnit) -> Field {
        plain(name, DataType::Utf8)
    }
    #[inline(always)]
    fn plan(plan: &mut u64, v: &str) {
        *plan += v.len() as u64;
    }
    fn bytes(plan: &u64) -> u64 {
        *plan
    }
    fn builder(rows: usize, plan: u64, _: TimeUnit) -> Result<TextBuilder> {
        TextBuilder::with_capacity(rows, plan)
    }
    #[inline(always)]
    fn push(b: &mut TextBuilder, v: &str) {
        b.push(v);
    }
    fn finish(b: TextBuilder) -> Result<ArrayRef> {
        Ok(Arc::new(b.finish()?))
    }
}

/// `Utf8`: an `AnyValue` rendered as the exporter renders it ([`render::text`]).
pub struct AnyText;

impl Kind for AnyText {
    type Value<'v> = &'v AnyValue<'v>;
    type Plan = u64;
    type Builder = TextBuilder;

    fn field(name: &str, _: TimeUnit) -> Field {
        plain(name, DataType::Utf8)
    }
    #[inline(always)]
    fn plan(plan: &mut u64, v: &AnyValue<'_>) {
        *plan += render::text_bound(v) as u64;
    }
    fn bytes(plan: &u64) -> u64 {
        *plan
    }
    fn builder(rows: usize, plan: u64, _: TimeUnit) -> Result<TextBuilder> {
        TextBuilder::with_capacity(rows, plan)
    }
    #[inline(always)]
    fn push(b: &mut TextBuilder, v: &AnyValue<'_>) {
        b.push_any(v);
    }
    fn finish(b: TextBuilder) -> Result<ArrayRef> {
        Ok(Arc::new(b.finish()?))
    }
}

/// `Utf8`: an `N`-byte trace or span id as lowercase hex, "" when all zeros.
pub struct HexId<const N: usize>;

impl<const N: usize> Kind for HexId<N> {
    type Value<'v> = &'v [u8; N];
    type Plan = ();
    type Builder = TextBuilder;

    fn field(name: &str, _: TimeUnit) -> Field {
        plain(name, DataType::Utf8)
    }
    fn builder(rows: usize, _: (), _: TimeUnit) -> Result<TextBuilder> {
        TextBuilder::with_capacity(rows, (rows * N * 2) as u64)
    }
    #[inline(always)]
    fn push(b: &mut TextBuilder, v: &[u8; N]) {
        b.push_id(v);
    }
    fn finish(b: TextBuilder) -> Result<ArrayRef> {
        Ok(Arc::new(b.finish()?))
    }
}

/// A 16-byte trace id.
pub type TraceHex = HexId<16>;
/// An 8-byte span id.
pub type SpanHex = HexId<8>;

/// `Timestamp(unit, "UTC")` from Unix nanoseconds (clamped, see [`crate::key::clamp`]).
pub struct Time;

impl Kind for Time {
    type Value<'v> = u64;
    type Plan = ();
    type Builder = TimeBuilder;

    fn field(name: &str, unit: TimeUnit) -> Field {
        plain(name, schema::timestamp(unit))
    }
    fn builder(rows: usize, _: (), unit: TimeUnit) -> Result<TimeBuilder> {
        Ok(TimeBuilder::with_capacity(rows, unit))
    }
    #[inline(always)]
    fn push(b: &mut TimeBuilder, v: u64) {
        b.push(v);
    }
    fn finish(b: TimeBuilder) -> Result<ArrayRef> {
        Ok(b.finish())
    }
}

/// A fixed-width Arrow primitive `T`.
pub struct Fixed<T>(PhantomData<T>);

impl<T: ArrowPrimitiveType> Kind for Fixed<T> {
    type Value<'v> = T::Native;
    type Plan = ();
    type Builder = FixedBuilder<T>;

    fn field(name: &str, _: TimeUnit) -> Field {
        plain(name, T::DATA_TYPE)
    }
    fn builder(rows: usize, _: (), _: TimeUnit) -> Result<FixedBuilder<T>> {
        Ok(FixedBuilder::with_capacity(rows))
    }
    #[inline(always)]
    fn push(b: &mut FixedBuilder<T>, v: T::Native) {
        b.push(v);
    }
    fn finish(b: FixedBuilder<T>) -> Result<ArrayRef> {
        Ok(Arc::new(b.finish()))
    }
}

/// `UInt8`.
pub type U8 = Fixed<UInt8Type>;
/// `UInt32`.
pub type U32 = Fixed<UInt32Type>;
/// `UInt64`.
pub type U64 = Fixed<UInt64Type>;
/// `Int32`.
pub type I32 = Fixed<Int32Type>;
/// `Float64`.
pub type F64 = Fixed<Float64Type>;

/// `Boolean`.
pub struct Bool;

impl Kind for Bool {
    type Value<'v> = bool;
    type Plan = ();
    type Builder = Vec<bool>;

    fn field(name: &str, _: TimeUnit) -> Field {
        plain(name, DataType::Boolean)
    }
    fn builder(rows: usize, _: (), _: TimeUnit) -> Result<Vec<bool>> {
        Ok(Vec::with_capacity(rows))
    }
    #[inline(always)]
    fn push(b: &mut Vec<bool>, v: bool) {
        b.push(v);
    }
    fn finish(b: Vec<bool>) -> Result<ArrayRef> {
        Ok(Arc::new(BooleanArray::from(b)))
    }
}

/// `Map<Utf8, Utf8>`: an attribute list, values rendered per row.
pub struct Attrs;

impl Kind for Attrs {
    type Value<'v> = &'v [KeyValue<'v>];
    type Plan = AttrsPlan;
    type Builder = AttrsBuilder;

    fn field(name: &str, _: TimeUnit) -> Field {
        schema::attributes(name)
    }
    #[inline(always)]
    fn plan(plan: &mut AttrsPlan, v: &[KeyValue<'_>]) {
        plan.add(v);
    }
    fn bytes(plan: &AttrsPlan) -> u64 {
        plan.bytes()
    }
    fn builder(_: usize, plan: AttrsPlan, _: TimeUnit) -> Result<AttrsBuilder> {
        AttrsBuilder::new(plan)
    }
    #[inline(always)]
    fn push(b: &mut AttrsBuilder, v: &[KeyValue<'_>]) {
        b.push(v);
    }
    fn finish(b: AttrsBuilder) -> Result<ArrayRef> {
        Ok(Arc::new(b.finish()?))
    }
}

/// `Map<Utf8, Utf8>`: an attribute list shared by many rows (a resource's
/// or a scope's), rendered once per request and copied per row.
pub struct SharedAttrs;

impl Kind for SharedAttrs {
    type Value<'v> = &'v RenderedAttrs;
    type Plan = AttrsPlan;
    type Builder = AttrsBuilder;

    fn field(name: &str, _: TimeUnit) -> Field {
        schema::attributes(name)
    }
    #[inline(always)]
    fn plan(plan: &mut AttrsPlan, v: &RenderedAttrs) {
        plan.add_rendered(v);
    }
    fn bytes(plan: &AttrsPlan) -> u64 {
        plan.bytes()
    }
    fn builder(_: usize, plan: AttrsPlan, _: TimeUnit) -> Result<AttrsBuilder> {
        AttrsBuilder::new(plan)
    }
    #[inline(always)]
    fn push(b: &mut AttrsBuilder, v: &RenderedAttrs) {
        b.push_rendered(v);
    }
    fn finish(b: AttrsBuilder) -> Result<ArrayRef> {
        Ok(Arc::new(b.finish()?))
    }
}

/// `List<T>` of a fixed-width primitive `T`.
pub struct List<T>(PhantomData<T>);

impl<T: ArrowPrimitiveType> Kind for List<T> {
    type Value<'v> = &'v [T::Native];
    type Plan = usize;
    type Builder = (ListOffsets, FixedBuilder<T>);

    fn field(name: &str, _: TimeUnit) -> Field {
        plain(name, DataType::List(schema::scalar_item(T::DATA_TYPE)))
    }
    #[inline(always)]
    fn plan(items: &mut usize, v: &[T::Native]) {
        *items += v.len();
    }
    fn builder(rows: usize, items: usize, _: TimeUnit) -> Result<Self::Builder> {
        Ok((
            ListOffsets::with_capacity(rows),
            FixedBuilder::with_capacity(items),
        ))
    }
    #[inline(always)]
    fn push((offsets, values): &mut Self::Builder, v: &[T::Native]) {
        values.extend(v);
        offsets.push(v.len());
    }
    fn finish((offsets, values): Self::Builder) -> Result<ArrayRef> {
        offsets.finish(schema::scalar_item(T::DATA_TYPE), Arc::new(values.finish()))
    }
}

/// `List<UInt64>`.
pub type U64List = List<UInt64Type>;
/// `List<Float64>`.
pub type F64List = List<Float64Type>;

/// `List<Struct>` whose item struct is the column set `C`.
pub struct Structs<C>(PhantomData<C>);

/// The builder of a [`Structs`] column.
pub struct StructsBuilder<C: Columns> {
    offsets: ListOffsets,
    items: C::Builders,
    unit: TimeUnit,
}

impl<C: Columns> Kind for Structs<C> {
    type Value<'v> = &'v [C::Item<'v>];
    type Plan = ListPlan<C::Plan>;
    type Builder = StructsBuilder<C>;

    fn field(name: &str, unit: TimeUnit) -> Field {
        plain(name, DataType::List(schema::list_item(C::fields(unit))))
    }
    #[inline(always)]
    fn plan(plan: &mut Self::Plan, v: Self::Value<'_>) {
        plan.items += v.len();
        for item in v {
            C::plan(&mut plan.of, item);
        }
    }
    fn bytes(plan: &Self::Plan) -> u64 {
        plan.items as u64 * C::ITEM_BYTES + C::bytes(&plan.of)
    }
    fn builder(rows: usize, plan: Self::Plan, unit: TimeUnit) -> Result<Self::Builder> {
        Ok(StructsBuilder {
            offsets: ListOffsets::with_capacity(rows),
            items: C::builders(plan.items, plan.of, unit)?,
            unit,
        })
    }
    #[inline(always)]
    fn push(b: &mut Self::Builder, v: Self::Value<'_>) {
        for item in v {
            C::push(&mut b.items, item);
        }
        b.offsets.push(v.len());
    }
    fn finish(b: Self::Builder) -> Result<ArrayRef> {
        let item = schema::list_item(C::fields(b.unit));
        let DataType::Struct(fields) = item.data_type() else {
            return Err(internal("list item is not a struct"));
        };
        let fields: Fields = fields.clone();
        let child = Arc::new(StructArray::try_new(fields, C::finish(b.items)?, None)?);
        b.offsets.finish(item, child)
    }
}
