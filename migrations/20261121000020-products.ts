import { Migration } from '@mikro-orm/migrations';

/**
 * The products tables of reference §2.3. Foreign keys are plain references with no ON DELETE cascade, as the
 * original's: the routes delete dependants in one transaction. `product_deployment_steps.product_deployment_plan_step_id`
 * stays a soft reference, so a deployment's history survives a change of its plan. `etcd_cluster_ports.product_component_id`
 * (clusters migration) gets no reference yet: the clusters tests allocate ports to components that do not exist.
 */
export default class Products extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table products (
      id serial primary key,
      name varchar(255) not null unique,
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql(`create table product_environments (
      id serial primary key,
      product_id int not null references products(id),
      name varchar(128) not null,
      inserted_at timestamp not null,
      updated_at timestamp not null,
      unique (product_id, name))`);
    this.addSql(`create table product_environmental_variables (
      id serial primary key,
      product_id int not null references products(id),
      product_environment_id int null references product_environments(id),
      name varchar(1024) not null,
      value text null,
      private boolean null,
      value_keyname varchar(255) null,
      inserted_at timestamp not null,
      updated_at timestamp not null,
      unique (product_id, product_environment_id, name))`);
    // NULLs are distinct in a unique index, so the product-wide defaults need their own (reference §2.3).
    this.addSql(`create unique index product_environmental_variables_default_name_index
      on product_environmental_variables (product_id, name) where product_environment_id is null`);
    this.addSql(`create table product_clusters (
      id serial primary key,
      product_id int not null references products(id),
      etcd_cluster_id int null references etcd_clusters(id),
      primary_ind boolean null,
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql('create index product_clusters_product_id_index on product_clusters (product_id)');
    this.addSql('create index product_clusters_etcd_cluster_id_index on product_clusters (etcd_cluster_id)');
    this.addSql(`create table product_components (
      id serial primary key,
      product_id int not null references products(id),
      name varchar(1024) not null,
      type varchar(1024) not null,
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql('create index product_components_product_id_index on product_components (product_id)');
    this.addSql(`create table product_component_options (
      id serial primary key,
      product_component_id int not null references product_components(id),
      name varchar(1024) not null,
      value text null,
      type text null,
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql('create index product_component_options_component_id_index on product_component_options (product_component_id)');
    this.addSql(`create table product_deployment_plans (
      id serial primary key,
      product_id int not null references products(id),
      name varchar(1024) not null,
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql('create index product_deployment_plans_product_id_index on product_deployment_plans (product_id)');
    this.addSql(`create table product_deployment_plan_steps (
      id serial primary key,
      product_deployment_plan_id int not null references product_deployment_plans(id),
      on_success_step_id int null references product_deployment_plan_steps(id),
      on_failure_step_id int null references product_deployment_plan_steps(id),
      type varchar(1024) not null,
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql('create index product_deployment_plan_steps_plan_id_index on product_deployment_plan_steps (product_deployment_plan_id)');
    this.addSql(`create table product_deployment_plan_step_options (
      id serial primary key,
      product_deployment_plan_step_id int not null references product_deployment_plan_steps(id),
      name varchar(1024) not null,
      value text null,
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql('create index product_deployment_plan_step_options_step_id_index on product_deployment_plan_step_options (product_deployment_plan_step_id)');
    this.addSql(`create table product_deployments (
      id serial primary key,
      product_id int not null references products(id),
      product_deployment_plan_id int not null references product_deployment_plans(id),
      product_environment_id int null references product_environments(id),
      completed boolean null,
      duration varchar(1024) null,
      execution_options text null default '{}',
      output text null,
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql('create index product_deployments_product_id_inserted_at_index on product_deployments (product_id, inserted_at)');
    this.addSql(`create table product_deployment_steps (
      id serial primary key,
      product_deployment_id int not null references product_deployments(id),
      product_deployment_plan_step_id int null,
      product_deployment_plan_step_type varchar(1024) null,
      duration varchar(1024) null,
      successful boolean null,
      execution_options text null,
      output text null,
      sequence int null,
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql('create index product_deployment_steps_deployment_id_index on product_deployment_steps (product_deployment_id)');
    // Every mutation audits `<METHOD> <route path>`; paths here reach 86 characters
    // (`DELETE /products/:product_name/environments/:environment_name/variables/:variable_name`), over the 64 the auth
    // migration allowed. Widening is safe on a shipped table: no value gets shorter.
    this.addSql('alter table audit_events alter column action type varchar(255)');
  }
}
