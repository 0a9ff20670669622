//! Table definitions shared by both backends (portable SQL types only).
//! Must match `migrations/sqlite` and `migrations/postgres`.

diesel::table! {
    ingest_runs (id) {
        id -> BigInt,
        source -> Text,
        file_name -> Text,
        file_hash -> Text,
        billing_period -> Text,
        rows_read -> BigInt,
        rows_kept -> BigInt,
        rows_rejected -> BigInt,
        status -> Text,
        message -> Text,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    cost_daily (id) {
        id -> BigInt,
        day -> Date,
        billing_period -> Text,
        billing_account -> Text,
        provider -> Text,
        account_id -> Text,
        platform -> Text,
        region -> Text,
        service -> Text,
        charge_category -> Text,
        source -> Text,
        currency -> Text,
        billed_micros -> BigInt,
        effective_micros -> BigInt,
        list_micros -> Nullable<BigInt>,
        usage_quantity -> Nullable<Double>,
        usage_unit -> Nullable<Text>,
        usage_class -> Text,
        estimated -> Integer,
        ingest_run_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    player_activity (id) {
        id -> BigInt,
        day -> Date,
        platform -> Text,
        region -> Text,
        peak_concurrent_players -> BigInt,
        player_hours -> Double,
        source -> Text,
        ingest_run_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    utilisation (id) {
        id -> BigInt,
        period_start -> Timestamp,
        granularity -> Text,
        resource_id -> Text,
        resource_kind -> Text,
        instance_type -> Text,
        region -> Text,
        platform -> Text,
        running_hours -> Double,
        cpu_avg -> Double,
        cpu_p95 -> Nullable<Double>,
        cpu_p99 -> Nullable<Double>,
        cpu_max -> Double,
        mem_avg -> Nullable<Double>,
        mem_max -> Nullable<Double>,
        network_bytes -> Nullable<Double>,
        source -> Text,
        ingest_run_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    calendar_events (id) {
        id -> BigInt,
        name -> Text,
        kind -> Text,
        start_date -> Date,
        end_date -> Date,
        platforms -> Text,
        regions -> Text,
        expected_uplift -> Nullable<Double>,
        ramp_days -> Nullable<Integer>,
        notes -> Text,
        source -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    budgets (id) {
        id -> BigInt,
        month -> Text,
        platform -> Text,
        region -> Text,
        service -> Text,
        tag -> Text,
        basis -> Text,
        amount_micros -> BigInt,
        currency -> Text,
        note -> Text,
    }
}

diesel::table! {
    anomalies (id) {
        id -> BigInt,
        platform -> Text,
        region -> Text,
        service -> Text,
        currency -> Text,
        start_day -> Date,
        end_day -> Date,
        actual_micros -> BigInt,
        expected_micros -> BigInt,
        impact_micros -> BigInt,
        why -> Text,
        event -> Text,
        explanation -> Text,
        feedback -> Text,
        feedback_by -> Text,
        detected_at -> Timestamp,
    }
}

diesel::table! {
    alert_rules (id) {
        id -> BigInt,
        name -> Text,
        kind -> Text,
        basis -> Text,
        percent -> Double,
        impact_micros -> BigInt,
        days -> BigInt,
        channels -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    alerts (id) {
        id -> BigInt,
        rule_id -> BigInt,
        rule_name -> Text,
        kind -> Text,
        episode -> Text,
        title -> Text,
        body -> Text,
        link -> Text,
        raised_at -> Timestamp,
    }
}

diesel::table! {
    alert_deliveries (id) {
        id -> BigInt,
        alert_id -> BigInt,
        channel -> Text,
        status -> Text,
        attempts -> BigInt,
        next_attempt_at -> Timestamp,
        last_error -> Text,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    scheduled_jobs (name) {
        name -> Text,
        last_started_at -> Timestamp,
        last_finished_at -> Nullable<Timestamp>,
        last_status -> Text,
        last_message -> Text,
        runs -> BigInt,
        started_by -> Text,
    }
}

diesel::table! {
    export_deliveries (export_uri, billing_period) {
        export_uri -> Text,
        billing_period -> Text,
        manifest_key -> Text,
        manifest_etag -> Text,
        delivery_id -> Text,
        files -> BigInt,
        bytes -> BigInt,
        ingest_run_id -> BigInt,
        imported_at -> Timestamp,
    }
}

diesel::table! {
    alert_state (name) {
        name -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    cost_resource_daily (id) {
        id -> BigInt,
        day -> Date,
        billing_period -> Text,
        billing_account -> Text,
        provider -> Text,
        account_id -> Text,
        region -> Text,
        service -> Text,
        charge_category -> Text,
        source -> Text,
        currency -> Text,
        resource -> Text,
        tags -> Text,
        allocated_to -> Text,
        commitment_id -> Text,
        commitment_type -> Text,
        commitment_status -> Text,
        billed_micros -> BigInt,
        effective_micros -> BigInt,
        list_micros -> Nullable<BigInt>,
        usage_quantity -> Nullable<Double>,
        usage_unit -> Nullable<Text>,
        usage_class -> Text,
        instance_type -> Text,
        commitment_end -> Text,
        estimated -> Integer,
        ingest_run_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    allocation_rules (id) {
        id -> BigInt,
        position -> Integer,
        kind -> Text,
        pattern -> Text,
        platform -> Text,
        driver -> Text,
        note -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    scenarios (id) {
        id -> BigInt,
        name -> Text,
        source -> Text,
        body -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    instance_types (id) {
        id -> BigInt,
        service -> Text,
        instance_type -> Text,
        family -> Text,
        generation -> Integer,
        vcpu -> Double,
        memory_gib -> Double,
    }
}

diesel::table! {
    instance_prices (id) {
        id -> BigInt,
        service -> Text,
        instance_type -> Text,
        region -> Text,
        offer -> Text,
        term_years -> Integer,
        payment -> Text,
        currency -> Text,
        hourly_micros -> BigInt,
        origin -> Text,
    }
}

diesel::table! {
    commitments (id) {
        id -> BigInt,
        commitment_id -> Text,
        kind -> Text,
        region -> Text,
        family -> Text,
        instance_type -> Text,
        instance_count -> Integer,
        hourly_commitment_micros -> BigInt,
        term_years -> Integer,
        payment -> Text,
        start_date -> Date,
        end_date -> Date,
        source -> Text,
    }
}

diesel::table! {
    aws_advice (id) {
        id -> BigInt,
        kind -> Text,
        parameters -> Text,
        scope -> Text,
        region -> Text,
        current -> Text,
        recommended -> Text,
        hourly_commitment_micros -> Nullable<BigInt>,
        monthly_savings_micros -> BigInt,
        expected_utilisation -> Nullable<Double>,
        currency -> Text,
        pulled_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        role -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        username -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        name -> Text,
        token_hash -> Text,
        role -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        target -> Text,
        outcome -> Text,
        detail -> Text,
        repeats -> BigInt,
        last_at -> Nullable<Timestamp>,
        group_key -> Nullable<Text>,
    }
}

diesel::table! {
    sign_in_limits (key) {
        key -> Text,
        attempts -> BigInt,
        window_start -> Timestamp,
        next_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    cost_resource_daily,
    allocation_rules,
    ingest_runs,
    cost_daily,
    player_activity,
    utilisation,
    calendar_events,
    budgets,
    anomalies,
    alert_rules,
    alerts,
    alert_deliveries,
    alert_state,
    scheduled_jobs,
    export_deliveries,
    scenarios,
    instance_types,
    instance_prices,
    commitments,
    aws_advice,
    users,
    sessions,
    api_tokens,
    audit_log,
    sign_in_limits,
);
