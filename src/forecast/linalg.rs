//! The little linear algebra the forecaster needs: ridge regression by the
//! normal equations, solved with Cholesky (the matrix is symmetric positive
//! definite once a ridge is added).

/// Solves `(XᵀX + diag(penalty)) β = Xᵀy`. `rows` are the rows of X.
/// Returns `None` if the system is singular despite the ridge.
pub fn ridge(rows: &[Vec<f64>], y: &[f64], penalty: &[f64]) -> Option<Vec<f64>> {
    let p = penalty.len();
    let mut a = vec![0.0; p * p];
    let mut b = vec![0.0; p];
    for (row, yi) in rows.iter().zip(y) {
        for i in 0..p {
            let ri = row[i];
            if ri == 0.0 {
                continue;
            }
            b[i] += ri * yi;
            for j in i..p {
                a[i * p + j] += ri * row[j];
            }
        }
    }
    for i in 0..p {
        for j in 0..i {
            a[i * p + j] = a[j * p + i];
        }
        a[i * p + i] += penalty[i];
    }
    cholesky_solve(&mut a, &mut b, p)
}

/// Solves `A x = b` for a symmetric positive definite `A` (n × n, row
/// major; overwritten). `None` if `A` is not positive definite.
pub fn solve_spd(a: &mut [f64], b: &mut [f64], n: usize) -> Option<Vec<f64>> {
    cholesky_solve(a, b, n)
}

fn cholesky_solve(a: &mut [f64], b: &mut [f64], n: usize) -> Option<Vec<f64>> {
    // In-place lower Cholesky factor.
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        if d <= 1e-12 || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
    }
    // L z = b
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= a[i * n + k] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
    // Lᵀ x = z
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= a[k * n + i] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
    Some(b.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_the_coefficients_of_an_exact_linear_model() {
        let rows: Vec<Vec<f64>> = (0..50)
            .map(|i| {
                let x = i as f64;
                vec![1.0, x, (x / 5.0).sin()]
            })
            .collect();
        let y: Vec<f64> = rows.iter().map(|r| 2.0 + 0.5 * r[1] - 3.0 * r[2]).collect();
        let beta = ridge(&rows, &y, &[1e-9; 3]).unwrap();
        assert!((beta[0] - 2.0).abs() < 1e-6);
        assert!((beta[1] - 0.5).abs() < 1e-6);
        assert!((beta[2] + 3.0).abs() < 1e-6);
    }
}
