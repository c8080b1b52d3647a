"""Running query plans against subgraphs and shaping the client's response."""

from .pipeline import Gateway, GraphQLRequest, GraphQLResponse, PipelineOptions

__all__ = ["Gateway", "GraphQLRequest", "GraphQLResponse", "PipelineOptions"]
