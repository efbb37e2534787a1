//! Arithmetic on jets (products, sums, element-wise maps) so output transforms such as
//! u = g(x) + d(x)·N(x) carry their derivatives exactly: the product rule to second order.
//!
//! kiln-core's [`Jet`] pushes derivatives through layers and activations; hard constraints and
//! PDE coefficients that vary in space need jets multiplied by jets, which live here.

use burn::tensor::{Int, Tensor, TensorData};
use kiln_core::{Jet, SecondOrder};

use crate::{Error, Result};

/// The (i, j) pairs of a jet's second-derivative slots, in kiln-core's storage order.
fn pairs(order: SecondOrder, n: usize) -> Vec<(usize, usize)> {
    match order {
        SecondOrder::None => Vec::new(),
        SecondOrder::Diagonal => (0..n).map(|i| (i, i)).collect(),
        SecondOrder::Full => (0..n).flat_map(|i| (i..n).map(move |j| (i, j))).collect(),
    }
}

fn check_pair(context: &str, a: &Jet, b: &Jet) -> Result<()> {
    let ([ba, wa], [bb, wb]) = (a.dims(), b.dims());
    if a.inputs() != b.inputs() || a.order() != b.order() || ba != bb {
        return Err(Error::shape(
            context,
            format!(
                "jets over the same inputs ({}), order and batch ({ba})",
                a.inputs()
            ),
            &[b.inputs(), bb, wb],
        ));
    }
    if wa != wb && wa != 1 && wb != 1 {
        return Err(Error::shape(
            context,
            format!("equal widths or width 1 (left width {wa})"),
            &[bb, wb],
        ));
    }
    Ok(())
}

/// Widens a width-1 jet to `width` features.
fn widen(jet: Jet, width: usize) -> Jet {
    let [_, w] = jet.dims();
    if w == width {
        return jet;
    }
    let (inputs, order) = (jet.inputs(), jet.order());
    let stack = jet.into_stack();
    let [k, b, _] = stack.dims();
    from_stack(stack.expand([k, b, width]), inputs, order)
}

fn from_stack(stack: Tensor<3>, inputs: usize, order: SecondOrder) -> Jet {
    let [k, b, w] = stack.dims();
    let value = stack.clone().narrow(0, 0, 1).reshape([b, w]);
    let gradient = stack.clone().narrow(0, 1, inputs);
    let slots = order.slots(inputs);
    let second = (slots > 0).then(|| stack.narrow(0, 1 + inputs, slots));
    debug_assert_eq!(k, 1 + inputs + slots);
    Jet::from_parts(value, gradient, second, order).expect("a stack split by its own layout")
}

/// The product `a · b` by the product rule: (ab)ᵢ = aᵢb + abᵢ, (ab)ᵢⱼ = aᵢⱼb + aᵢbⱼ + aⱼbᵢ + abᵢⱼ.
/// A width-1 jet multiplies every feature of the other.
///
/// # Errors
/// [`Error::ShapeMismatch`] when the jets differ in inputs, order or batch, or their widths are
/// neither equal nor one of them 1.
pub fn mul(a: &Jet, b: &Jet) -> Result<Jet> {
    check_pair("jet_algebra::mul", a, b)?;
    let width = a.dims()[1].max(b.dims()[1]);
    let (a, b) = (widen(a.clone(), width), widen(b.clone(), width));
    let (n, order) = (a.inputs(), a.order());
    let (av, bv) = (a.value(), b.value());
    let (ag, bg) = (a.gradient(), b.gradient());
    let gradient = ag.clone() * bv.clone().unsqueeze_dim::<3>(0)
        + bg.clone() * av.clone().unsqueeze_dim::<3>(0);
    let second = match (a.second(), b.second()) {
        (Some(a2), Some(b2)) => {
            let (left, right): (Vec<i64>, Vec<i64>) = pairs(order, n)
                .into_iter()
                .map(|(i, j)| (i as i64, j as i64))
                .unzip();
            let device = av.device();
            let index = |v: &[i64]| Tensor::<1, Int>::from_data(TensorData::from(v), &device);
            let (li, ri) = (index(&left), index(&right));
            let cross = ag.clone().select(0, li.clone()) * bg.clone().select(0, ri.clone())
                + ag.select(0, ri) * bg.select(0, li);
            Some(
                a2 * bv.clone().unsqueeze_dim::<3>(0)
                    + b2 * av.clone().unsqueeze_dim::<3>(0)
                    + cross,
            )
        }
        _ => None,
    };
    Ok(Jet::from_parts(av * bv, gradient, second, order)?)
}

/// The sum `a + b` (a width-1 jet is added to every feature of the other).
///
/// # Errors
/// As [`mul`].
pub fn add(a: &Jet, b: &Jet) -> Result<Jet> {
    check_pair("jet_algebra::add", a, b)?;
    let width = a.dims()[1].max(b.dims()[1]);
    Ok(widen(a.clone(), width).try_add(widen(b.clone(), width))?)
}

/// The difference `a - b`.
///
/// # Errors
/// As [`mul`].
pub fn sub(a: &Jet, b: &Jet) -> Result<Jet> {
    add(a, &b.clone().mul_scalar(-1.0))
}

/// `c + a`: shifts the value only.
pub fn add_scalar(a: &Jet, c: f64) -> Jet {
    Jet::from_parts(a.value().add_scalar(c), a.gradient(), a.second(), a.order())
        .expect("parts taken from one jet")
}

/// Applies an element-wise function given its value, first and second derivative at the jet's
/// value (all `[batch, width]`), with the chain rule. `second` may be `None` for first-order jets.
///
/// # Errors
/// [`Error::ShapeMismatch`] when `second` is missing for a jet that carries second derivatives.
pub fn map(a: &Jet, value: Tensor<2>, first: Tensor<2>, second: Option<Tensor<2>>) -> Result<Jet> {
    let (n, order) = (a.inputs(), a.order());
    let grad = a.gradient();
    let f1 = first.unsqueeze_dim::<3>(0);
    let new_second = match a.second() {
        None => None,
        Some(old) => {
            let Some(f2) = second else {
                return Err(Error::shape(
                    "jet_algebra::map",
                    "a second derivative for a jet with second-order slots",
                    &[],
                ));
            };
            let (left, right): (Vec<i64>, Vec<i64>) = pairs(order, n)
                .into_iter()
                .map(|(i, j)| (i as i64, j as i64))
                .unzip();
            let device = grad.device();
            let index = |v: &[i64]| Tensor::<1, Int>::from_data(TensorData::from(v), &device);
            let products =
                grad.clone().select(0, index(&left)) * grad.clone().select(0, index(&right));
            Some(products * f2.unsqueeze_dim::<3>(0) + old * f1.clone())
        }
    };
    Ok(Jet::from_parts(value, grad * f1, new_second, order)?)
}

/// The square `a²`.
///
/// # Errors
/// As [`mul`] (never for a single jet).
pub fn square(a: &Jet) -> Result<Jet> {
    mul(a, a)
}

/// sin(a), with derivatives.
///
/// # Errors
/// Never for well-formed jets; the `Result` is that of [`map`].
pub fn sin(a: &Jet) -> Result<Jet> {
    let v = a.value();
    let second = a.order() != SecondOrder::None;
    let s = v.clone().sin();
    map(a, s.clone(), v.cos(), second.then(|| s.neg()))
}

/// exp(a), with derivatives.
///
/// # Errors
/// As [`sin`].
pub fn exp(a: &Jet) -> Result<Jet> {
    let e = a.value().exp();
    let second = a.order() != SecondOrder::None;
    map(a, e.clone(), e.clone(), second.then_some(e))
}
