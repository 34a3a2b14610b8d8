import { EntitySchema } from '@mikro-orm/core';
import { timestampProperties, type Timestamps } from './common.js';

/**
 * The products tables (reference §2.3). Foreign keys are plain ids, as the original's: cascades are done by the routes
 * in one transaction (reference §2.3 lists them per table). JSON columns are JSON text, decoded by the routes.
 */

export interface Product extends Timestamps {
  id: number;
  name: string;
}

export const ProductSchema = new EntitySchema<Product>({
  name: 'Product',
  tableName: 'products',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    name: { type: 'string', unique: true },
    ...timestampProperties,
  },
});

export interface ProductEnvironment extends Timestamps {
  id: number;
  product_id: number;
  name: string;
}

export const ProductEnvironmentSchema = new EntitySchema<ProductEnvironment>({
  name: 'ProductEnvironment',
  tableName: 'product_environments',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    product_id: { type: 'number' },
    name: { type: 'string', length: 128 },
    ...timestampProperties,
  },
});

/**
 * A variable of a product: a product-wide default when `product_environment_id` is null, else an environment's
 * override. A `private` value is sealed (http/secrets.ts) under the key named in `value_keyname`; the original stored
 * it in clear (reference §2.3, §10.1 item 7).
 */
export interface ProductEnvironmentalVariable extends Timestamps {
  id: number;
  product_id: number;
  product_environment_id: number | null;
  name: string;
  value: string | null;
  private: boolean | null;
  value_keyname: string | null;
}

export const ProductEnvironmentalVariableSchema = new EntitySchema<ProductEnvironmentalVariable>({
  name: 'ProductEnvironmentalVariable',
  tableName: 'product_environmental_variables',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    product_id: { type: 'number' },
    product_environment_id: { type: 'number', nullable: true },
    name: { type: 'string', length: 1024 },
    value: { type: 'text', nullable: true },
    private: { type: 'boolean', nullable: true },
    value_keyname: { type: 'string', nullable: true },
    ...timestampProperties,
  },
});

/** A cluster a product deploys to (`etcd_cluster_id` -> etcd_clusters). */
export interface ProductCluster extends Timestamps {
  id: number;
  product_id: number;
  etcd_cluster_id: number | null;
  primary_ind: boolean | null;
}

export const ProductClusterSchema = new EntitySchema<ProductCluster>({
  name: 'ProductCluster',
  tableName: 'product_clusters',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    product_id: { type: 'number' },
    etcd_cluster_id: { type: 'number', nullable: true },
    primary_ind: { type: 'boolean', nullable: true },
    ...timestampProperties,
  },
});

export const COMPONENT_TYPES = ['web_server', 'db'] as const;

export interface ProductComponent extends Timestamps {
  id: number;
  product_id: number;
  name: string;
  type: string;
}

export const ProductComponentSchema = new EntitySchema<ProductComponent>({
  name: 'ProductComponent',
  tableName: 'product_components',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    product_id: { type: 'number' },
    name: { type: 'string', length: 1024 },
    type: { type: 'string', length: 1024 },
    ...timestampProperties,
  },
});

export interface ProductComponentOption extends Timestamps {
  id: number;
  product_component_id: number;
  name: string;
  value: string | null;
  type: string | null;
}

export const ProductComponentOptionSchema = new EntitySchema<ProductComponentOption>({
  name: 'ProductComponentOption',
  tableName: 'product_component_options',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    product_component_id: { type: 'number' },
    name: { type: 'string', length: 1024 },
    value: { type: 'text', nullable: true },
    type: { type: 'text', nullable: true },
    ...timestampProperties,
  },
});

export interface ProductDeploymentPlan extends Timestamps {
  id: number;
  product_id: number;
  name: string;
}

export const ProductDeploymentPlanSchema = new EntitySchema<ProductDeploymentPlan>({
  name: 'ProductDeploymentPlan',
  tableName: 'product_deployment_plans',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    product_id: { type: 'number' },
    name: { type: 'string', length: 1024 },
    ...timestampProperties,
  },
});

export const PLAN_STEP_TYPES = ['build_component', 'deploy_component', 'build_deploy_component', 'component_script', 'deploy_script', 'execute_plan'] as const;

/** A node of a plan's binary step tree: the step to run next on success and on failure. */
export interface ProductDeploymentPlanStep extends Timestamps {
  id: number;
  product_deployment_plan_id: number;
  on_success_step_id: number | null;
  on_failure_step_id: number | null;
  type: string;
}

export const ProductDeploymentPlanStepSchema = new EntitySchema<ProductDeploymentPlanStep>({
  name: 'ProductDeploymentPlanStep',
  tableName: 'product_deployment_plan_steps',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    product_deployment_plan_id: { type: 'number' },
    on_success_step_id: { type: 'number', nullable: true },
    on_failure_step_id: { type: 'number', nullable: true },
    type: { type: 'string', length: 1024 },
    ...timestampProperties,
  },
});

export interface ProductDeploymentPlanStepOption extends Timestamps {
  id: number;
  product_deployment_plan_step_id: number;
  name: string;
  value: string | null;
}

export const ProductDeploymentPlanStepOptionSchema = new EntitySchema<ProductDeploymentPlanStepOption>({
  name: 'ProductDeploymentPlanStepOption',
  tableName: 'product_deployment_plan_step_options',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    product_deployment_plan_step_id: { type: 'number' },
    name: { type: 'string', length: 1024 },
    value: { type: 'text', nullable: true },
    ...timestampProperties,
  },
});

/** One run of a plan in an environment; `execution_options` (object) and `output` (array of lines) are JSON text. */
export interface ProductDeployment extends Timestamps {
  id: number;
  product_id: number;
  product_deployment_plan_id: number;
  product_environment_id: number | null;
  completed: boolean | null;
  duration: string | null;
  execution_options: string | null;
  output: string | null;
}

export const ProductDeploymentSchema = new EntitySchema<ProductDeployment>({
  name: 'ProductDeployment',
  tableName: 'product_deployments',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    product_id: { type: 'number' },
    product_deployment_plan_id: { type: 'number' },
    product_environment_id: { type: 'number', nullable: true },
    completed: { type: 'boolean', nullable: true },
    duration: { type: 'string', length: 1024, nullable: true },
    execution_options: { type: 'text', nullable: true },
    output: { type: 'text', nullable: true },
    ...timestampProperties,
  },
});

/** What one plan step did in a deployment; `product_deployment_plan_step_id` is a soft reference (the plan may change). */
export interface ProductDeploymentStep extends Timestamps {
  id: number;
  product_deployment_id: number;
  product_deployment_plan_step_id: number | null;
  product_deployment_plan_step_type: string | null;
  duration: string | null;
  successful: boolean | null;
  execution_options: string | null;
  output: string | null;
  sequence: number | null;
}

export const ProductDeploymentStepSchema = new EntitySchema<ProductDeploymentStep>({
  name: 'ProductDeploymentStep',
  tableName: 'product_deployment_steps',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    product_deployment_id: { type: 'number' },
    product_deployment_plan_step_id: { type: 'number', nullable: true },
    product_deployment_plan_step_type: { type: 'string', length: 1024, nullable: true },
    duration: { type: 'string', length: 1024, nullable: true },
    successful: { type: 'boolean', nullable: true },
    execution_options: { type: 'text', nullable: true },
    output: { type: 'text', nullable: true },
    sequence: { type: 'number', nullable: true },
    ...timestampProperties,
  },
});

export const PRODUCTS_ENTITIES = [
  ProductSchema,
  ProductEnvironmentSchema,
  ProductEnvironmentalVariableSchema,
  ProductClusterSchema,
  ProductComponentSchema,
  ProductComponentOptionSchema,
  ProductDeploymentPlanSchema,
  ProductDeploymentPlanStepSchema,
  ProductDeploymentPlanStepOptionSchema,
  ProductDeploymentSchema,
  ProductDeploymentStepSchema,
];
